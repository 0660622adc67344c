//go:build race

package rtp_test

// raceOn: the race detector makes sync.Pool drop items, so allocation guards do not apply.
const raceOn = true
