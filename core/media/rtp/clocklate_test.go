package rtp_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// TestLateTickTimestampGap: when the clock skips deadlines, the terminated-media sender does not
// burst, and its next packet's RTP timestamp jumps by the skipped frames with the marker bit set,
// so the timeline keeps following wall time; sequence numbers stay consecutive.
func TestLateTickTimestampGap(t *testing.T) {
	clk := media.NewFakeClock(testEpoch)
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetCodec(pcmu, 0)
	phone := newRawPeer(t)
	p.SetRemote(phone.addr(), netip.AddrPort{})
	s := p.Stream()
	frame := &media.Frame{PCM: make([]int16, 160), Rate: 8000}
	for i := range frame.PCM {
		frame.PCM[i] = int16(1000 * (i%16 - 8))
	}
	ctx := context.Background()
	step := func(stall bool) (seq uint16, ts uint32, marker bool) {
		t.Helper()
		if err := s.WriteFrame(ctx, frame); err != nil {
			t.Fatal(err)
		}
		if stall {
			clk.Stall(100 * time.Millisecond) // deadlines +20..+100 ms: one tick, four skipped
		} else {
			clk.Advance(20 * time.Millisecond)
		}
		pkt, ok := phone.recv(t, 2*time.Second)
		if !ok {
			t.Fatal("no packet")
		}
		return pkt.SequenceNumber, pkt.Timestamp, pkt.Marker
	}
	seq0, ts0, _ := step(false)
	for i := 1; i < 3; i++ {
		seq, ts, m := step(false)
		if seq != seq0+uint16(i) || ts != ts0+uint32(i)*160 || m {
			t.Fatalf("packet %d: seq %d ts %d marker %v", i, seq, ts, m)
		}
	}
	seq, ts, m := step(true)
	if seq != seq0+3 || ts != ts0+7*160 || !m {
		t.Fatalf("after a late tick: seq %d (want %d) ts +%d (want +%d) marker %v (want true)",
			seq, seq0+3, ts-ts0, 7*160, m)
	}
	if _, ok := phone.recv(t, 50*time.Millisecond); ok {
		t.Fatal("the late tick sent more than one packet (a burst)")
	}
	seq, ts, m = step(false)
	if seq != seq0+4 || ts != ts0+8*160 || m {
		t.Fatalf("after the gap: seq %d ts +%d marker %v", seq, ts-ts0, m)
	}
}

// TestPipeLateTickTimestampGap: pipe frames carry timestamps that also jump over skipped ticks.
func TestPipeLateTickTimestampGap(t *testing.T) {
	clk := media.NewFakeClock(testEpoch)
	a, b := media.NewPipe(media.PipeConfig{Clock: clk})
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	var f media.Frame
	clk.Advance(20 * time.Millisecond)
	if err := b.Stream().ReadFrame(ctx, &f); err != nil {
		t.Fatal(err)
	}
	ts0 := f.TS
	clk.Stall(60 * time.Millisecond)
	if err := b.Stream().ReadFrame(ctx, &f); err != nil {
		t.Fatal(err)
	}
	if f.TS != ts0+3*160 {
		t.Fatalf("ts moved by %d after a late tick, want %d", f.TS-ts0, 3*160)
	}
}
