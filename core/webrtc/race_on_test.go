//go:build race

package webrtc_test

// raceEnabled: the race detector makes sync.Pool drop items, so allocation guards do not apply.
const raceEnabled = true
