package core

import "context"

// The session goroutine is the only one that drives its channel (state, progress, answer,
// applications, the Leg). Other goroutines (API commands, other channels' applications, the
// event socket) hand it work through its command queue.

// Enqueue runs fn on the session goroutine at the next point where it is free (between
// applications, parked, waiting in a bridge). It never blocks and reports false when the channel is
// gone.
func (s *Session) Enqueue(fn func()) bool {
	if s.ctx.Err() != nil {
		return false
	}
	s.cmdMu.Lock()
	s.cmdQ = append(s.cmdQ, fn)
	s.cmdMu.Unlock()
	select {
	case s.cmdWake <- struct{}{}:
	default:
	}
	return true
}

// runCommands runs the queued commands in order, including any they queue themselves.
func (s *Session) runCommands() {
	for {
		s.cmdMu.Lock()
		q := s.cmdQ
		s.cmdQ = nil
		s.cmdMu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, fn := range q {
			fn()
		}
	}
}

// Do runs fn on the session goroutine, as Enqueue does, and waits until it ran. It reports false
// when the channel ended or ctx was done first (fn may then still run later). Never call it from
// the session's own goroutine: it would wait for itself.
func (s *Session) Do(ctx context.Context, fn func()) bool {
	done := make(chan struct{})
	if !s.Enqueue(func() { defer close(done); fn() }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-s.ctx.Done():
	case <-ctx.Done():
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}
