//go:build !race

package media_test

const raceOn = false
