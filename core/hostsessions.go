package core

import (
	"errors"
	"sort"
	"time"
)

// The session table: the live channels, their counts and the admission of new ones.

// Session returns the live session with uuid.
func (h *Host) Session(uuid string) (*Session, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s, ok := h.sessions[uuid]
	return s, ok
}

// Sessions returns the live sessions ordered by creation time.
func (h *Host) Sessions() []*Session {
	h.mu.RLock()
	out := make([]*Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		out = append(out, s)
	}
	h.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out
}

// SessionCount returns how many sessions are live.
func (h *Host) SessionCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sessions)
}

// SessionStats returns (since startup, peak, max sessions, sessions per second limit).
func (h *Host) SessionStats() (since uint64, peak, max, sps int64) {
	return h.sessionsSinceStart.Load(), h.peak.Load(), h.maxSessions.Load(), h.sps.Load()
}

// SetMaxSessions changes the session limit (fsctl max_sessions).
func (h *Host) SetMaxSessions(n int64) { h.maxSessions.Store(n) }

// SetSPS changes the sessions-per-second limit (fsctl sps).
func (h *Host) SetSPS(n int64) { h.sps.Store(n) }

// SetPaused refuses (true) or accepts (false) new sessions (fsctl pause/resume).
func (h *Host) SetPaused(p bool) {
	if !p {
		h.adm.draining.Store(false)
	}
	h.paused.Store(p)
}

// Paused reports whether new sessions are refused.
func (h *Host) Paused() bool { return h.paused.Load() }

// lastSecondSessions is how many inbound sessions were admitted in the last whole second.
func (h *Host) lastSecondSessions() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if time.Now().Unix() == h.spsWindow.sec {
		return h.spsWindow.prev
	}
	return h.spsWindow.cur
}

// CurrentSPS returns sessions created in the last second.
func (h *Host) CurrentSPS() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.spsWindow.rate(time.Now())
}

// ErrSessionLimit is returned when max-sessions or sessions-per-second would be exceeded, or the
// switch is paused; endpoints answer 503.
var ErrSessionLimit = errors.New("session limit reached")

func (h *Host) admit(s *Session) error {
	now := time.Now()
	h.mu.Lock()
	reason := ""
	switch {
	case h.paused.Load():
		reason = RefusePaused
		if h.adm.draining.Load() {
			reason = RefuseShutdown
		}
	case int64(len(h.sessions)) >= h.maxSessions.Load():
		reason = RefuseMaxSessions
	// FreeSWITCH's sessions-per-second throttles inbound calls only; outbound legs of a call in
	// progress must not fail because many callers arrived at once.
	case s.direction == Inbound && h.spsWindow.rate(now) >= h.sps.Load():
		reason = RefuseSPS
	case s.direction == Inbound && h.adm.overloaded.Load() && !h.adm.throttle.take(now):
		reason = RefuseOverload // the token CheckAdmission only peeked at
	}
	if reason != "" {
		h.mu.Unlock()
		return h.Refuse(reason)
	}
	if s.direction == Inbound {
		h.spsWindow.add(now)
	}
	h.sessions[s.uuid] = s
	h.sessionsSinceStart.Add(1)
	if n := int64(len(h.sessions)); n > h.peak.Load() {
		h.peak.Store(n)
	}
	h.mu.Unlock()
	return nil
}

func (h *Host) remove(s *Session) {
	h.mu.Lock()
	delete(h.sessions, s.uuid)
	h.mu.Unlock()
}

// HangupAll hangs up every session for which match returns true (all when match is nil).
func (h *Host) HangupAll(cause Cause, match func(*Session) bool) int {
	n := 0
	for _, s := range h.Sessions() {
		if match == nil || match(s) {
			s.Hangup(cause)
			n++
		}
	}
	return n
}

// spsCounter counts session creations in the current and previous second.
type spsCounter struct {
	sec       int64
	cur, prev int64
}

func (c *spsCounter) add(now time.Time) {
	s := now.Unix()
	if s != c.sec {
		if s == c.sec+1 {
			c.prev = c.cur
		} else {
			c.prev = 0
		}
		c.cur, c.sec = 0, s
	}
	c.cur++
}

func (c *spsCounter) rate(now time.Time) int64 {
	if now.Unix() != c.sec {
		return 0
	}
	return c.cur
}
