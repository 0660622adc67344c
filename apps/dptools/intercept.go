package dptools

import (
	"context"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

func init() {
	reg("intercept", "[-bleg] <uuid>", "intercept", 0, intercept)
}

// intercept is FreeSWITCH's switch_ivr_intercept_session: the channel uuid (or, with -bleg, the
// channel it is bridged to or ringing) is taken from whatever it does, answered, its other leg
// is hung up with PICKED_OFF, and it is bridged to this channel. With intercept_unanswered_only
// true an answered channel is not taken.
func intercept(ctx context.Context, s *core.Session, args string) error {
	args = strings.TrimSpace(args)
	bleg := false
	if rest, ok := strings.CutPrefix(args, "-bleg"); ok {
		bleg, args = true, strings.TrimSpace(rest)
	}
	if args == "" {
		s.Log().Warn("intercept: no uuid")
		return nil
	}
	h := s.Host()
	target, ok := h.Session(args)
	if !ok || target.HungUp() {
		s.Log().Info("intercept: no channel " + args)
		return nil
	}
	if bleg {
		b := target.Peer()
		if b == nil {
			b = ringingLeg(h, target)
		}
		if b == nil {
			s.Log().Info("intercept: " + args + " has no b-leg")
			return nil
		}
		target = b
	}
	if target == s {
		return nil
	}
	if target.Answered() && core.True(s.Var("intercept_unanswered_only")) {
		s.Log().Info("intercept: channel already answered")
		return nil
	}
	if target.Taken() {
		s.Log().Info("intercept: channel already intercepted")
		return nil
	}
	target.SetVar("intercepted_by", s.UUID())
	s.SetVar("intercepted_uuid", target.UUID())
	// The other side: the leg target is bridged to, or every leg it is still ringing.
	var others []*core.Session
	if p := target.Peer(); p != nil {
		others = append(others, p)
	}
	for _, x := range h.Sessions() {
		if x.Originator() == target && x != s && !x.HungUp() && !containsSession(others, x) {
			others = append(others, x)
		}
	}
	if o := target.Originator(); o != nil && o != s && !containsSession(others, o) && target.Peer() == nil {
		others = append(others, o) // intercepting a ringing b-leg: its caller is dropped
	}
	target.Take()
	for _, o := range others {
		o.Hangup(core.CausePickedOff)
	}
	target.Break()
	return BridgeTaken(ctx, s, target)
}

// BridgeTaken bridges s with target, a channel just taken (core.Session.Take) and broken out of
// its application (intercept, valet_park retrieval): it waits for target to leave any bridge it was
// in, answers both, bridges them, and when the bridge ends s follows target out as after
// uuid_bridge (hangs up with its cause, or parks with park_after_bridge).
func BridgeTaken(ctx context.Context, s, target *core.Session) error {
	for i := 0; i < 100 && target.Peer() != nil && !target.HungUp(); i++ {
		if !core.Sleep(ctx, 20*time.Millisecond) {
			return nil
		}
	}
	if target.HungUp() {
		return nil
	}
	if !target.Answered() {
		// The target's Leg is driven by its own goroutine only: it answers there, parked now that
		// Take and Break moved it out of its application.
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var err error
		ran := target.Do(actx, func() { err = target.Answer(target.Context()) })
		cancel()
		if !ran || err != nil {
			return nil
		}
	}
	if !s.Answered() {
		if err := s.Answer(ctx); err != nil {
			return err
		}
	}
	if err := s.Bridge(ctx, target); err != nil {
		s.Log().Info("bridge to taken channel: " + err.Error())
		return nil
	}
	if s.HungUp() || s.TransferPending() {
		return nil
	}
	if core.True(s.Var("park_after_bridge")) {
		s.Park()
		return nil
	}
	c := target.HangupCause()
	if c == core.CauseNone {
		c = core.CauseNormalClearing
	}
	s.Hangup(c)
	return nil
}

// ringingLeg returns an unanswered outbound leg that a originated, if any.
func ringingLeg(h *core.Host, a *core.Session) *core.Session {
	if b := a.Originatee(); b != nil && !b.HungUp() {
		return b
	}
	for _, x := range h.Sessions() {
		if x.Originator() == a && !x.HungUp() {
			return x
		}
	}
	return nil
}

func containsSession(list []*core.Session, s *core.Session) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
