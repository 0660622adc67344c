package rtp_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
)

// cnRig is a terminated PCMU port on a fake clock sending to a raw phone.
type cnRig struct {
	t     *testing.T
	clk   *media.FakeClock
	port  *rtp.RTPPort
	phone *rawPeer
	tone  *media.Frame
}

func newCNRig(t *testing.T, cn uint8) *cnRig {
	clk := media.NewFakeClock(testEpoch)
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.SetCodec(pcmu, 0)
	if cn != 0 {
		p.SetComfortNoise(cn)
	}
	phone := newRawPeer(t)
	p.SetRemote(phone.addr(), netip.AddrPort{})
	tone := &media.Frame{PCM: make([]int16, 160), Rate: 8000}
	for i := range tone.PCM {
		tone.PCM[i] = int16(4000 * (i%8 - 4))
	}
	return &cnRig{t, clk, p, phone, tone}
}

// step writes f (nil: nothing), runs one tick and returns what the phone got (nil: nothing).
func (r *cnRig) step(f *media.Frame) *pionrtp.Packet {
	r.t.Helper()
	if f != nil {
		if err := r.port.Stream().WriteFrame(context.Background(), f); err != nil {
			r.t.Fatal(err)
		}
	}
	r.clk.Advance(20 * time.Millisecond)
	pkt, _ := r.phone.recv(r.t, 10*time.Millisecond) // the fake clock sent synchronously
	return pkt
}

func silentFrame(amp int16, fl media.FrameFlags) *media.Frame {
	f := &media.Frame{PCM: make([]int16, 160), Rate: 8000, Flags: fl}
	for i := range f.PCM {
		if i%2 == 0 {
			f.PCM[i] = amp
		} else {
			f.PCM[i] = -amp
		}
	}
	return f
}

// TestComfortNoiseSend: with CN negotiated, silence goes out as RFC 3389: one SID when the
// silence starts (level 65 when there is nothing to measure), a refresh every 60 frames, the
// measured level for quiet frames marked as silence, and the audio after it starts a talkspurt
// (marker) on the same timeline.
func TestComfortNoiseSend(t *testing.T) {
	r := newCNRig(t, 13)
	r.port.Stream()
	if p := r.step(nil); p != nil {
		t.Fatalf("CN before any audio: %v", p)
	}
	var last *pionrtp.Packet
	for range 3 {
		if last = r.step(r.tone); last == nil || last.PayloadType != 0 {
			t.Fatalf("tone frame not sent as PCMU: %v", last)
		}
	}
	sid := r.step(nil) // the application stops writing
	if sid == nil || sid.PayloadType != 13 || len(sid.Payload) != 1 || sid.Payload[0] != 65 ||
		sid.SequenceNumber != last.SequenceNumber+1 || sid.Timestamp != last.Timestamp+160 {
		t.Fatalf("no SID at the start of silence after %v: %v", last, sid)
	}
	for i := 1; i < 60; i++ {
		if p := r.step(nil); p != nil {
			t.Fatalf("silent tick %d sent %v", i, p)
		}
	}
	re := r.step(nil)
	if re == nil || re.PayloadType != 13 || re.Timestamp != sid.Timestamp+60*160 || re.SequenceNumber != sid.SequenceNumber+1 {
		t.Fatalf("no SID refresh 60 frames later: %v", re)
	}
	a := r.step(r.tone)
	if a == nil || a.PayloadType != 0 || !a.Marker || a.Timestamp != re.Timestamp+160 {
		t.Fatalf("talkspurt after CN: %v", a)
	}
	// The application writes silence: digital zero, then quiet noise marked as silence.
	if p := r.step(silentFrame(0, 0)); p == nil || p.PayloadType != 13 || p.Payload[0] != 65 {
		t.Fatalf("digital silence not sent as CN: %v", p)
	}
	for range 3 {
		if p := r.step(silentFrame(0, 0)); p != nil {
			t.Fatalf("silence frame sent during CN: %v", p)
		}
	}
	r.step(r.tone)
	p := r.step(silentFrame(33, media.FrameSilence)) // 33/32768 RMS: about -60 dBov
	if p == nil || p.PayloadType != 13 || p.Payload[0] < 58 || p.Payload[0] > 62 {
		t.Fatalf("quiet frame marked silence: want a SID at level ~60, got %v", p)
	}
}

// TestComfortNoiseNotNegotiated: without SetComfortNoise nothing changes: silence frames are
// sent as audio and a stream with nothing to send sends nothing.
func TestComfortNoiseNotNegotiated(t *testing.T) {
	r := newCNRig(t, 0)
	for range 2 {
		if p := r.step(r.tone); p == nil || p.PayloadType != 0 {
			t.Fatalf("tone frame: %v", p)
		}
	}
	for range 3 {
		if p := r.step(silentFrame(0, media.FrameSilence)); p == nil || p.PayloadType != 0 || len(p.Payload) != 160 {
			t.Fatalf("silence frame not sent as PCMU: %v", p)
		}
	}
	for range 65 {
		if p := r.step(nil); p != nil {
			t.Fatalf("idle stream sent %v", p)
		}
	}
}
