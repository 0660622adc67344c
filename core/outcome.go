package core

// Outcome is how a leg's call ended as its own endpoint saw it: the typed value behind
// FreeSWITCH's sip_term_status, sip_hangup_disposition and sip_hangup_phrase. The endpoint
// writes it on its own leg (SetOutcome); the originator hands it to the A-leg in the CallError,
// so no one parses channel variables to learn why a leg failed.
type Outcome struct {
	Cause       Cause  // zero when the endpoint did not choose one
	Proto       string // protocol-specific status, "sip:486"; "" when none
	Phrase      string // the far end's reason phrase, when it sent one
	Disposition string // who ended it and how: "recv_refuse", "send_bye", ...
}

// SetOutcome merges o into the leg's outcome: each non-zero field replaces the one held. Any
// goroutine may call it (the SIP endpoint does from its transaction handlers).
func (s *Session) SetOutcome(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Cause != 0 {
		s.outcome.Cause = o.Cause
	}
	if o.Proto != "" {
		s.outcome.Proto = o.Proto
	}
	if o.Phrase != "" {
		s.outcome.Phrase = o.Phrase
	}
	if o.Disposition != "" {
		s.outcome.Disposition = o.Disposition
	}
}

// Outcome returns the leg's outcome so far.
func (s *Session) Outcome() Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outcome
}

// RecordBridgeOutcome sets FreeSWITCH's last_bridge_proto_specific_hangup_cause on s (the A-leg)
// from the bridged leg b's outcome, once the bridge ended.
func (s *Session) RecordBridgeOutcome(b *Session) { s.setLastBridgeProto(b.Outcome().Proto) }

// setLastBridgeProto is the one writer of last_bridge_proto_specific_hangup_cause: the A-leg's
// endpoint reads it back to relay the far end's status (mod_sofia does the same).
func (s *Session) setLastBridgeProto(proto string) {
	if proto != "" {
		s.vars.Set("last_bridge_proto_specific_hangup_cause", proto)
	}
}
