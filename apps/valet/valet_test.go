package valet_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	_ "github.com/goswitch/goswitch/apps/valet"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
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

const music = "tone_stream://%(10000,0,440);loops=-1"

// TestAutoInOut: auto in takes the first free slot of the range, the parked caller hears the
// hold music, auto out retrieves the first parked call and the two hear each other.
func TestAutoInOut(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Subclass == "valet_parking::info" }, 64)
	defer sub.Close()
	a, pa := playtest.NewCall(t, h, "a", [2]string{"valet_hold_music", music})
	b, _ := playtest.NewCall(t, h, "b", [2]string{"valet_hold_music", music})
	playtest.Run(t, a, "valet_park", "lot auto in 5 7")
	waitFor(t, "a in slot 5", func() bool { return a.Var("valet_lot_extension") == "5" })
	playtest.Run(t, b, "valet_park", "lot auto in 5 7")
	waitFor(t, "b in slot 6", func() bool { return b.Var("valet_lot_extension") == "6" })
	time.Sleep(300 * time.Millisecond)
	if g := playtest.Goertzel(pa.Heard(), 440, 8000); g < 0.3 {
		t.Errorf("parked caller does not hear the hold music (440 Hz share %.3f)", g)
	}
	info, _ := h.APIOutput(t.Context(), "valet_info", "lot")
	if !strings.Contains(info, a.UUID()+`">5<`) || !strings.Contains(info, b.UUID()+`">6<`) {
		t.Errorf("valet_info:\n%s", info)
	}
	c, pc := playtest.NewCall(t, h, "c")
	playtest.Run(t, c, "valet_park", "lot auto out 5 7")
	waitFor(t, "c bridged to a", func() bool { return c.Peer() == a })
	pa.Tone(500, 8000, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	m := pc.Mark()
	time.Sleep(400 * time.Millisecond)
	if g := playtest.Goertzel(pc.HeardSince(m), 500, 8000); g < 0.3 {
		t.Errorf("retriever does not hear the parked caller (%.3f)", g)
	}
	info, _ = h.APIOutput(t.Context(), "valet_info", "")
	if strings.Contains(info, ">5<") || !strings.Contains(info, ">6<") {
		t.Errorf("valet_info after retrieval:\n%s", info)
	}
	c.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, a, 5*time.Second) // the parked call follows its retriever out
	actions := map[string]bool{}
	for len(sub.C()) > 0 {
		actions[(<-sub.C()).Get("Action")] = true
	}
	if !actions["hold"] || !actions["bridge"] {
		t.Errorf("valet_parking::info actions: %v", actions)
	}
	// b hangs up while parked: its slot is free again.
	b.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, b, 5*time.Second)
	waitFor(t, "slot 6 free", func() bool {
		info, _ := h.APIOutput(t.Context(), "valet_info", "")
		return !strings.Contains(info, "<extension")
	})
}

// TestAskAndSlot: vanilla's 6000 (ask for the slot, then retrieve) and 60xx (park in the slot
// dialled) forms.
func TestAskAndSlot(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	a, _ := playtest.NewCall(t, h, "a", [2]string{"valet_hold_music", music})
	playtest.Run(t, a, "answer", "", "valet_park", "valet_parking_lot 6005")
	waitFor(t, "a in 6005", func() bool { return a.Var("valet_lot_extension") == "6005" })
	c, pc := playtest.NewCall(t, h, "c")
	playtest.Run(t, c, "answer", "", "valet_park", "valet_parking_lot ask 1 11 3000 silence_stream://100")
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("6005#")
	waitFor(t, "c bridged to a", func() bool { return c.Peer() == a })
}
