package dptools_test

import (
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
)

func bridgedPair(t *testing.T, h *core.Host) (a, b *core.Session, pa, pb *playtest.Phone) {
	t.Helper()
	a, pa = playtest.NewCall(t, h, "a")
	b, pb = playtest.NewCall(t, h, "b")
	playtest.Run(t, a, "answer", "", "park", "")
	playtest.Run(t, b, "answer", "", "park", "")
	deadline := time.Now().Add(5 * time.Second)
	for a.State() != core.StatePark || b.State() != core.StatePark {
		if time.Now().After(deadline) {
			t.Fatal("not parked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.UUIDBridge(a, b); err != nil {
		t.Fatal(err)
	}
	for a.Peer() != b {
		if time.Now().After(deadline) {
			t.Fatal("not bridged")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return a, b, pa, pb
}

// TestInterceptBleg: intercept -bleg <a> takes a's partner; a is hung up with PICKED_OFF and the
// interceptor hears b.
func TestInterceptBleg(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, b, _, pb := bridgedPair(t, h)
	e, pe := playtest.NewCall(t, h, "e")
	playtest.Run(t, e, "answer", "", "intercept", "-bleg "+a.UUID(), "set", "fell_through=yes")
	playtest.Wait(t, a, 5*time.Second)
	if a.HangupCause() != core.CausePickedOff {
		t.Errorf("a ended with %s, want PICKED_OFF", a.HangupCause())
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.Peer() != b {
		if time.Now().After(deadline) {
			t.Fatalf("interceptor not bridged to b: b hung=%v cause=%s state=%s peer=%v e state=%s e hung=%v", b.HungUp(), b.HangupCause(), b.State(), e.Peer() != nil, e.State(), e.HungUp())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e.Var("intercepted_uuid") != b.UUID() || b.Var("intercepted_by") != e.UUID() {
		t.Errorf("intercepted_uuid %q intercepted_by %q", e.Var("intercepted_uuid"), b.Var("intercepted_by"))
	}
	pb.Tone(600, 8000, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	m := pe.Mark()
	time.Sleep(400 * time.Millisecond)
	if g := playtest.Goertzel(pe.HeardSince(m), 600, 8000); g < 0.3 {
		t.Errorf("interceptor does not hear b (%.3f)", g)
	}
	b.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, e, 5*time.Second) // the interceptor follows its intercepted channel out
	if e.Var("fell_through") != "" {
		t.Errorf("the interceptor's dialplan went on after the bridge")
	}
}

// TestInterceptUnansweredOnly: with intercept_unanswered_only an answered call is left alone and
// the dialplan goes on; a missing uuid also just returns.
func TestInterceptUnansweredOnly(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, b, _, _ := bridgedPair(t, h)
	e, _ := playtest.NewCall(t, h, "e", [2]string{"intercept_unanswered_only", "true"})
	playtest.Run(t, e, "answer", "", "intercept", a.UUID(), "intercept", "no-such-uuid", "set", "went_on=yes", "park", "")
	deadline := time.Now().Add(5 * time.Second)
	for e.Var("went_on") != "yes" {
		if time.Now().After(deadline) {
			t.Fatal("dialplan did not go on")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.HungUp() || b.HungUp() || a.Peer() != b {
		t.Errorf("the answered call was disturbed")
	}
}
