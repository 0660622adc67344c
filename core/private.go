package core

// PrivateOrStore returns the value stored under key, storing v first when there is none, in one
// step: two goroutines starting the same per-channel state (record_session from the dialplan and
// uuid_record from the console) get the same value.
func (s *Session) PrivateOrStore(key string, v any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.private[key]; ok {
		return old
	}
	if s.private == nil {
		s.private = map[string]any{}
	}
	s.private[key] = v
	return v
}
