package media

import "time"

// sleeper waits until a deadline, or until the clock stops (false).
type sleeper interface {
	sleepUntil(t time.Time) bool
	wake() // interrupt a wait in progress once stop is closed
	close()
}

// timerSleeper is the portable sleeper on a Go timer.
type timerSleeper struct {
	t    *time.Timer
	stop <-chan struct{}
}

func newTimerSleeper(stop <-chan struct{}) sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerSleeper{t: t, stop: stop}
}

func (s *timerSleeper) sleepUntil(t time.Time) bool {
	s.t.Reset(time.Until(t))
	select {
	case <-s.stop:
		return false
	case <-s.t.C:
		return true
	}
}

func (s *timerSleeper) wake()  {} // stop is part of the select
func (s *timerSleeper) close() { s.t.Stop() }
