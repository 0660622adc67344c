//go:build !(linux && (amd64 || arm64))

package media

func newSleeper(stop <-chan struct{}) sleeper { return newTimerSleeper(stop) }
