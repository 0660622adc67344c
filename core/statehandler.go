package core

// StateHandler is called on the session goroutine each time the channel enters a state, as
// FreeSWITCH's per-channel state handlers (switch_channel_add_state_handler) are. It returns
// false to be removed.
type StateHandler func(s *Session, st State) bool

// AddStateHandler adds fn to the channel's state handlers. Safe from any goroutine; fn runs on
// the session goroutine from the next state change on.
func (s *Session) AddStateHandler(fn StateHandler) {
	s.mu.Lock()
	s.stateHandlers = append(s.stateHandlers, fn)
	s.mu.Unlock()
}

// runStateHandlers calls the handlers for st and drops those that asked to go.
func (s *Session) runStateHandlers(st State) {
	s.mu.Lock()
	hs := s.stateHandlers
	s.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	keep := hs[:0:0]
	for _, fn := range hs {
		if fn(s, st) {
			keep = append(keep, fn)
		}
	}
	s.mu.Lock()
	// handlers added while these ran come after the kept ones
	s.stateHandlers = append(keep, s.stateHandlers[len(hs):]...)
	s.mu.Unlock()
}
