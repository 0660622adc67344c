package rtp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

type energyTap struct {
	mu  sync.Mutex
	max [2]float64
}

func (e *energyTap) OnFrame(dir media.Dir, f *media.Frame) {
	e.mu.Lock()
	e.max[dir] = max(e.max[dir], energy(f.PCM))
	e.mu.Unlock()
}

func (e *energyTap) get(dir media.Dir) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.max[dir]
}

// TestTapOnRelayedLeg: record_session on a bridged call sees both directions while the legs
// keep relaying packets.
func TestTapOnRelayedLeg(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	phoneA, legA := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	legB, phoneB := newPort(t, clk, pcma, 101), newPort(t, clk, pcma, 101)
	connect(phoneA, legA)
	connect(legB, phoneB)
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	tap := &energyTap{}
	remove := legA.Stream().AddTap(tap)
	defer remove()
	hearTone(t, phoneA, phoneB)
	hearTone(t, phoneB, phoneA)
	deadline := time.Now().Add(3 * time.Second)
	for (tap.get(media.DirRead) < 1e6 || tap.get(media.DirWrite) < 1e6) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if tap.get(media.DirRead) < 1e6 || tap.get(media.DirWrite) < 1e6 {
		t.Fatalf("tap energy read %g write %g", tap.get(media.DirRead), tap.get(media.DirWrite))
	}
	if s := legA.String(); !contains(s, "relay") {
		t.Fatalf("not relaying: %s", s)
	}
}
