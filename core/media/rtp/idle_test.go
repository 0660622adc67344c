package rtp_test

import (
	"context"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// TestDTMFGenerateInband: with SetInbandDTMFGenerate a leg that negotiated telephone-event sends
// its digits as tones (start_dtmf_generate); the far end, detecting in-band, hears them.
func TestDTMFGenerateInband(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a := newPort(t, clk, pcmu, 101)
	b, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetCodec(pcmu, 0) // b takes no telephone-event: only tones can reach it
	connect(a, b)
	b.SetInbandDTMF(true)
	ch := make(chan media.DTMF, 10)
	b.OnDTMF(func(d media.DTMF) { ch <- d })
	b.Stream()
	a.SetInbandDTMFGenerate(true)
	for _, d := range "47" {
		if err := a.SendDTMF(media.DTMF{Digit: d, Duration: 120 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitDigits(t, ch, 2)
	if got[0].Digit != '4' || got[1].Digit != '7' || got[0].Source != "INBAND_AUDIO" {
		t.Fatalf("%+v", got)
	}
}

// TestIdleSilenceFill: a terminated leg whose application writes nothing sends one silence frame
// per ptime with SetIdleSilence(-1), and nothing without it.
func TestIdleSilenceFill(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a, b := newPort(t, clk, pcmu, 0), newPort(t, clk, pcmu, 0)
	connect(a, b)
	st := b.Stream()
	a.Stream() // terminated, nothing written
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	count := func(d time.Duration) int {
		before := b.Stats().PacketsIn
		time.Sleep(d)
		return int(b.Stats().PacketsIn - before)
	}
	if n := count(300 * time.Millisecond); n != 0 {
		t.Fatalf("idle leg sent %d packets without send_silence_when_idle", n)
	}
	a.SetIdleSilence(-1)
	if n := count(500 * time.Millisecond); n < 20 || n > 27 {
		t.Fatalf("idle fill: %d packets in 500 ms, want ~25", n)
	}
	var f media.Frame
	if err := st.ReadFrame(ctx, &f); err != nil {
		t.Fatal(err)
	}
	a.SetIdleSilence(0)
	time.Sleep(60 * time.Millisecond)
	if n := count(300 * time.Millisecond); n != 0 {
		t.Fatalf("fill off: %d packets", n)
	}
}
