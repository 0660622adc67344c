package dptools_test

import (
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
)

const attConf = `<section name="dialplan"><context name="default">
  <extension name="target"><condition field="destination_number" expression="^target$">
    <action application="answer"/><action application="echo"/></condition></extension>
</context></section>`

const holdTone = "tone_stream://%(10000,0,440);loops=-1"

// attCall bridges P and X (two phones) and starts att_xfer on X toward the echo target, as a
// bind_meta_app would; it returns once X talks to the target.
func attCall(t *testing.T, h *core.Host) (p, x *core.Session, pp, px *playtest.Phone) {
	t.Helper()
	p, pp = playtest.NewCall(t, h, "p", [2]string{"hold_music", holdTone})
	x, px = playtest.NewCall(t, h, "x")
	playtest.Run(t, p, "answer", "", "park", "")
	playtest.Run(t, x, "answer", "", "park", "")
	waitState(t, p, core.StatePark)
	waitState(t, x, core.StatePark)
	if err := h.UUIDBridge(p, x); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "p and x bridged", func() bool { return p.Peer() == x })
	x.Enqueue(func() { _ = x.Execute(x.Context(), "att_xfer", "loopback/target") })
	waitCond(t, "x consults the target", func() bool { return x.Peer() != nil && x.Peer() != p })
	px.Tone(700, 8000, 3*time.Second)
	m := px.Mark()
	waitCond(t, "x hears the target (its echo)", func() bool { return playtest.Goertzel(px.HeardSince(m), 700, 8000) > 0.3 })
	m = pp.Mark()
	waitCond(t, "p hears hold music", func() bool { return playtest.Goertzel(pp.HeardSince(m), 440, 8000) > 0.3 })
	return p, x, pp, px
}

func waitState(t *testing.T, s *core.Session, st core.State) {
	t.Helper()
	waitCond(t, s.Name()+" in "+st.String(), func() bool { return s.State() == st })
}

func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAttXferComplete: X presses * (attxfer_hangup_key): P talks to the target, X hangs up with
// ATTENDED_TRANSFER.
func TestAttXferComplete(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(attConf))
	p, x, pp, px := attCall(t, h)
	target := x.Peer()
	px.DTMF("*")
	playtest.Wait(t, x, 5*time.Second)
	if c := x.HangupCause(); c != core.CauseAttendedTransfer {
		t.Errorf("transferor ended with %s, want ATTENDED_TRANSFER", c)
	}
	waitCond(t, "p bridged to the target", func() bool { return p.Peer() == target })
	pp.Tone(600, 8000, 3*time.Second)
	m := pp.Mark()
	waitCond(t, "p hears the target", func() bool { return playtest.Goertzel(pp.HeardSince(m), 600, 8000) > 0.3 })
}

// TestAttXferCancel: X presses # (attxfer_cancel_key): the target hangs up and X talks to P again.
func TestAttXferCancel(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(attConf))
	p, x, pp, px := attCall(t, h)
	target := x.Peer()
	px.DTMF("#")
	playtest.Wait(t, target, 5*time.Second)
	waitCond(t, "x back with p", func() bool { return x.Peer() == p })
	pp.Tone(900, 8000, 3*time.Second)
	m := px.Mark()
	waitCond(t, "x hears p again", func() bool { return playtest.Goertzel(px.HeardSince(m), 900, 8000) > 0.3 })
	p.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, x, 5*time.Second)
}

// TestAttXferHangupCompletes: X hanging up during the consultation joins P and the target.
func TestAttXferHangupCompletes(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(attConf))
	p, x, _, _ := attCall(t, h)
	target := x.Peer()
	x.Hangup(core.CauseNormalClearing)
	waitCond(t, "p bridged to the target", func() bool { return p.Peer() == target })
}
