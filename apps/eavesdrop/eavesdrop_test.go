package eavesdrop_test

import (
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/eavesdrop"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListenModesAndStar: the eavesdropper hears both parties of a bridged call, DTMF 0-3 set
// the mode, * ends the eavesdrop and the dialplan goes on.
func TestListenModesAndStar(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, pa := playtest.NewCall(t, h, "a")
	b, pb := playtest.NewCall(t, h, "b")
	playtest.Run(t, a, "answer", "", "park", "")
	playtest.Run(t, b, "answer", "", "park", "")
	waitFor(t, "parked", func() bool { return a.State() == core.StatePark && b.State() == core.StatePark })
	if err := h.UUIDBridge(a, b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bridged", func() bool { return a.Peer() == b })
	pa.Tone(500, 8000, 10*time.Second)
	pb.Tone(1000, 8000, 10*time.Second)
	e, pe := playtest.NewCall(t, h, "spy")
	playtest.Run(t, e, "eavesdrop", a.UUID(), "set", "after=yes", "park", "")
	waitFor(t, "listening", func() bool { return e.Var("eavesdrop_target") == a.UUID() })
	time.Sleep(200 * time.Millisecond)
	m := pe.Mark()
	time.Sleep(600 * time.Millisecond)
	heard := pe.HeardSince(m)
	g500, g1000 := playtest.Goertzel(heard, 500, 8000), playtest.Goertzel(heard, 1000, 8000)
	t.Logf("tone shares: 500 Hz %.3f, 1000 Hz %.3f", g500, g1000)
	if g500 < 0.2 || g1000 < 0.2 {
		t.Errorf("eavesdropper hears 500 Hz %.3f, 1000 Hz %.3f; want both", g500, g1000)
	}
	for d, want := range map[string]string{"2": "talk-target", "1": "talk-partner", "3": "talk-both", "0": "listen"} {
		pe.DTMF(d)
		waitFor(t, "mode "+want, func() bool { return e.Var("eavesdrop_mode") == want })
	}
	pe.DTMF("*")
	waitFor(t, "dialplan goes on after *", func() bool { return e.Var("after") == "yes" })
	if e.Var("eavesdrop_target") != "" {
		t.Errorf("eavesdrop_target left set")
	}
}

// TestFailedIndication: eavesdrop on a uuid that does not exist plays eavesdrop_indicate_failed.
func TestFailedIndication(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	e, pe := playtest.NewCall(t, h, "spy", [2]string{"eavesdrop_indicate_failed", "tone_stream://%(500, 0, 320)"})
	playtest.Run(t, e, "eavesdrop", "no-such-uuid", "hangup", "")
	playtest.Wait(t, e, 5*time.Second)
	if g := playtest.Goertzel(pe.Heard(), 320, 8000); g < 0.3 {
		t.Errorf("failed indication not heard (320 Hz share %.3f)", g)
	}
}

// TestAll: eavesdrop all finds the call and plays eavesdrop_indicate_new first.
func TestAll(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, pa := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "answer", "", "park", "")
	pa.Tone(500, 8000, 10*time.Second)
	e, pe := playtest.NewCall(t, h, "spy", [2]string{"eavesdrop_indicate_new", "tone_stream://%(300, 0, 620)"})
	waitFor(t, "a parked", func() bool { return a.State() == core.StatePark })
	playtest.Run(t, e, "eavesdrop", "all")
	waitFor(t, "listening to a", func() bool { return e.Var("eavesdrop_target") == a.UUID() })
	time.Sleep(500 * time.Millisecond)
	heard := pe.Heard()
	if g := playtest.Goertzel(heard, 620, 8000); g < 0.05 {
		t.Errorf("new-channel indication not heard (%.3f)", g)
	}
	if g := playtest.Goertzel(heard, 500, 8000); g < 0.05 {
		t.Errorf("a not heard (%.3f)", g)
	}
}

// TestWhisperAndBarge: 2 lets the target (a) hear the eavesdropper but not its partner (b), 3
// lets both hear it, 0 is listening again; * ends and a and b are bridged again.
func TestWhisperAndBarge(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, pa := playtest.NewCall(t, h, "a")
	b, pb := playtest.NewCall(t, h, "b")
	playtest.Run(t, a, "answer", "", "park", "")
	playtest.Run(t, b, "answer", "", "park", "")
	waitFor(t, "parked", func() bool { return a.State() == core.StatePark && b.State() == core.StatePark })
	if err := h.UUIDBridge(a, b); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bridged", func() bool { return a.Peer() == b })
	pa.Tone(500, 8000, 20*time.Second)
	pb.Tone(1000, 8000, 20*time.Second)
	e, pe := playtest.NewCall(t, h, "spy")
	pe.Tone(1500, 8000, 20*time.Second)
	playtest.Run(t, e, "eavesdrop", a.UUID(), "park", "")
	waitFor(t, "listening", func() bool { return e.Var("eavesdrop_target") == a.UUID() })
	share := func(p *playtest.Phone, f float64) float64 {
		time.Sleep(250 * time.Millisecond)
		m := p.Mark()
		time.Sleep(500 * time.Millisecond)
		return playtest.Goertzel(p.HeardSince(m), f, 8000)
	}
	pe.DTMF("2")
	waitFor(t, "whisper", func() bool { return e.Var("eavesdrop_mode") == "talk-target" && a.Peer() == nil })
	if g := share(pa, 1500); g < 0.2 {
		t.Errorf("whisper: target hears the eavesdropper at %.3f", g)
	}
	if g := share(pa, 1000); g < 0.2 {
		t.Errorf("whisper: target hears its partner at %.3f", g)
	}
	if g := share(pb, 1500); g > 0.02 {
		t.Errorf("whisper: partner hears the eavesdropper at %.3f", g)
	}
	if g := share(pb, 500); g < 0.2 {
		t.Errorf("whisper: partner hears the target at %.3f", g)
	}
	if g := share(pe, 500); g < 0.2 {
		t.Errorf("whisper: eavesdropper hears the target at %.3f", g)
	}
	pe.DTMF("3")
	waitFor(t, "barge", func() bool { return e.Var("eavesdrop_mode") == "talk-both" })
	if g := share(pb, 1500); g < 0.2 {
		t.Errorf("barge: partner hears the eavesdropper at %.3f", g)
	}
	pe.DTMF("1")
	waitFor(t, "talk to partner", func() bool { return e.Var("eavesdrop_mode") == "talk-partner" })
	if g := share(pa, 1500); g > 0.02 {
		t.Errorf("talk-partner: target hears the eavesdropper at %.3f", g)
	}
	pe.DTMF("*")
	waitFor(t, "parties bridged again", func() bool { return a.Peer() == b })
	if g := share(pb, 1500); g > 0.02 {
		t.Errorf("after *: partner still hears the eavesdropper at %.3f", g)
	}
	if g := share(pb, 500); g < 0.2 {
		t.Errorf("after *: partner hears the target at %.3f", g)
	}
}

// TestRequireGroup: with eavesdrop_require_group the listener gets only channels whose
// eavesdrop_group lists that group; others fail as an unknown channel would.
func TestRequireGroup(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	in, _ := playtest.NewCall(t, h, "sales", [2]string{"eavesdrop_group", "support, sales"})
	out, _ := playtest.NewCall(t, h, "other", [2]string{"eavesdrop_group", "billing"})
	playtest.Run(t, in, "answer", "", "park", "")
	playtest.Run(t, out, "answer", "", "park", "")
	waitFor(t, "parked", func() bool { return in.State() == core.StatePark && out.State() == core.StatePark })
	refused, _ := playtest.NewCall(t, h, "spy1", [2]string{"eavesdrop_require_group", "sales"})
	playtest.Run(t, refused, "eavesdrop", out.UUID(), "set", "refused=yes", "park", "")
	waitFor(t, "refused for another group", func() bool { return refused.Var("refused") == "yes" })
	if refused.Var("eavesdrop_target") != "" {
		t.Errorf("listened to a channel outside the required group")
	}
	ok, _ := playtest.NewCall(t, h, "spy2", [2]string{"eavesdrop_require_group", "sales"})
	playtest.Run(t, ok, "eavesdrop", "all")
	waitFor(t, "listening to the sales channel", func() bool { return ok.Var("eavesdrop_target") == in.UUID() })
}
