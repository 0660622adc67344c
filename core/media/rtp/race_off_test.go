//go:build !race

package rtp_test

const raceOn = false
