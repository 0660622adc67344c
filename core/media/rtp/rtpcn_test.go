package rtp_test

import (
	"context"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	pionrtp "github.com/pion/rtp"
)

// TestLossConcealmentAndComfortNoise sends audio with a hole (PLC frames) and then RFC 3389
// comfort noise (CNG frames) to a terminating port.
func TestLossConcealmentAndComfortNoise(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	port := newPort(t, clk, pcmu, 0)
	phone := newRawPeer(t)
	port.SetRemote(phone.addr(), netipZero)
	st := port.Stream()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	loud := make([]byte, 160)
	for i := range loud {
		loud[i] = 0x10 // loud u-law
	}
	go func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; i < 60 && ctx.Err() == nil; i++ {
			h := pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 3, SequenceNumber: uint16(i), Timestamp: uint32(i * 160)}
			switch {
			case i == 10 || i == 11: // lost
			case i >= 30:
				h.PayloadType = 13
				phone.send(t, port.LocalAddr(), h, []byte{40})
			default:
				phone.send(t, port.LocalAddr(), h, loud)
			}
			<-tk.C
		}
	}()
	var sawPLC, sawCNG bool
	var f media.Frame
	for !(sawPLC && sawCNG) {
		if err := st.ReadFrame(ctx, &f); err != nil {
			t.Fatalf("PLC %v CNG %v; stats %+v", sawPLC, sawCNG, port.Stats())
		}
		if f.Flags&media.FrameConcealed != 0 && energy(f.PCM) > 0 {
			sawPLC = true
		}
		if f.Flags&media.FrameCNG != 0 && energy(f.PCM) > 0 {
			sawCNG = true
		}
	}
	if port.Stats().Jitter.Lost == 0 {
		t.Errorf("loss not counted: %+v", port.Stats().Jitter)
	}
}
