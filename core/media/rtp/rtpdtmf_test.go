package rtp_test

import (
	"context"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
)

func waitDigits(t *testing.T, ch <-chan media.DTMF, n int) []media.DTMF {
	t.Helper()
	var got []media.DTMF
	timeout := time.After(8 * time.Second)
	for len(got) < n {
		select {
		case d := <-ch:
			got = append(got, d)
		case <-timeout:
			t.Fatalf("got %d of %d digits: %+v", len(got), n, got)
		}
	}
	return got
}

func TestDTMFRFC4733OverRTP(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a, b := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(a, b)
	ch := make(chan media.DTMF, 10)
	b.OnDTMF(func(d media.DTMF) { ch <- d })
	for _, d := range "1#" {
		if err := a.SendDTMF(media.DTMF{Digit: d}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitDigits(t, ch, 2)
	if got[0].Digit != '1' || got[1].Digit != '#' || got[0].Source != "RTP" || got[0].Samples() != 2000 {
		t.Fatalf("%+v", got)
	}
	select {
	case d := <-ch:
		t.Fatalf("duplicate digit %+v (end packets counted twice?)", d)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestDTMFInbandOverRTP(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a := newPort(t, clk, pcmu, 0) // no telephone-event: digits go in-band
	b, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, InbandDTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.SetCodec(pcmu, 0)
	connect(a, b)
	ch := make(chan media.DTMF, 10)
	b.OnDTMF(func(d media.DTMF) { ch <- d })
	b.Stream() // terminate media on b so the detector runs
	for _, d := range "58" {
		a.SendDTMF(media.DTMF{Digit: d, Duration: 120 * time.Millisecond})
	}
	got := waitDigits(t, ch, 2)
	if got[0].Digit != '5' || got[1].Digit != '8' || got[0].Source != "INBAND_AUDIO" {
		t.Fatalf("%+v", got)
	}
}

func TestDTMFInfoMode(t *testing.T) {
	a := newPort(t, nil, pcmu, 101)
	var sent []media.DTMF
	a.SetDTMFMode(media.DTMFInfo)
	a.SetInfoSender(func(d media.DTMF) error { sent = append(sent, d); return nil })
	a.SendDTMF(media.DTMF{Digit: '*'})
	if len(sent) != 1 || sent[0].Digit != '*' || sent[0].Duration != 250*time.Millisecond {
		t.Fatalf("%+v", sent)
	}
	// Digits arriving by INFO go to OnDTMF like RTP ones.
	var got media.DTMF
	a.OnDTMF(func(d media.DTMF) { got = d })
	a.ReceiveDTMF(media.DTMF{Digit: '7', Duration: 100 * time.Millisecond})
	if got.Digit != '7' || got.Source != "ENDPOINT" {
		t.Fatalf("%+v", got)
	}
	if err := a.SendDTMF(media.DTMF{Digit: 'x'}); err == nil {
		t.Fatal("bad digit accepted")
	}
}

// TestDTMFCrossesBridge: RFC 4733 on leg A, in-band on leg B, and the reverse.
func TestDTMFCrossesBridge(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	phoneA, legA := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	legB := newPort(t, clk, pcmu, 0)
	phoneB, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, InbandDTMF: true})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneB.Close()
	phoneB.SetCodec(pcmu, 0)
	connect(phoneA, legA)
	connect(legB, phoneB)
	seenA := make(chan media.DTMF, 10)
	legA.OnDTMF(func(d media.DTMF) { seenA <- d })
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	atB := make(chan media.DTMF, 10)
	phoneB.OnDTMF(func(d media.DTMF) { atB <- d })
	phoneB.Stream()
	phoneA.SendDTMF(media.DTMF{Digit: '9', Duration: 150 * time.Millisecond})
	if d := waitDigits(t, seenA, 1)[0]; d.Digit != '9' {
		t.Fatalf("leg A saw %+v", d)
	}
	if d := waitDigits(t, atB, 1)[0]; d.Digit != '9' || d.Source != "INBAND_AUDIO" {
		t.Fatalf("phone B heard %+v", d)
	}
}

// TestDTMFRelayForwardsEvents: both legs negotiated telephone-event (different PTs): the events
// are forwarded as packets with the other leg's PT and still reported once on the first leg.
func TestDTMFRelayForwardsEvents(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	legA, legB := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 96)
	phoneA, phoneB := newRawPeer(t), newRawPeer(t)
	legA.SetRemote(phoneA.addr(), netipZero)
	legB.SetRemote(phoneB.addr(), netipZero)
	seen := make(chan media.DTMF, 10)
	legA.OnDTMF(func(d media.DTMF) { seen <- d })
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	b := make([]byte, 4)
	for i, ev := range []rtp.TelephoneEvent{{Event: 3, Duration: 160}, {Event: 3, Duration: 320}, {Event: 3, End: true, Duration: 480}, {Event: 3, End: true, Duration: 480}, {Event: 3, End: true, Duration: 480}} {
		ev.Marshal(b)
		phoneA.send(t, legA.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 101, Marker: i == 0, SSRC: 1, SequenceNumber: uint16(i), Timestamp: 8000}, b)
		p, ok := phoneB.recv(t, 2*time.Second)
		if !ok || p.PayloadType != 96 || p.Payload[0] != 3 {
			t.Fatalf("event packet %d not forwarded: %+v", i, p)
		}
	}
	got := waitDigits(t, seen, 1)
	if got[0].Digit != '3' || got[0].Samples() != 480 {
		t.Fatalf("%+v", got)
	}
	select {
	case d := <-seen:
		t.Fatalf("reported twice: %+v", d)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestHoldStopsSending(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a := newPort(t, clk, pcmu, 0)
	phone := newRawPeer(t)
	a.SetRemote(phone.addr(), netipZero)
	a.SetDirection(media.RecvOnly)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	go media.Play(ctx, a.Stream(), audio.NewSilence(8000, 0, 10))
	if _, ok := phone.recv(t, 250*time.Millisecond); ok {
		t.Fatal("sent while on hold")
	}
	a.SetDirection(media.SendRecv)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	go media.Play(ctx2, a.Stream(), audio.NewSilence(8000, 0, 10))
	p, ok := phone.recv(t, time.Second)
	if !ok {
		t.Fatal("nothing sent after unhold")
	}
	_ = p
}

// TestCloseFromCallbacks: hanging up from OnTimeout or OnDTMF closes the port without deadlock.
func TestCloseFromCallbacks(t *testing.T) {
	done := make(chan struct{})
	self := make(chan *rtp.RTPPort, 1)
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Timeout: 100 * time.Millisecond, OnTimeout: func() { (<-self).Close(); close(done) }})
	if err != nil {
		t.Fatal(err)
	}
	p.SetCodec(pcmu, 0)
	self <- p
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close from OnTimeout deadlocked")
	}
	a, b := newPort(t, nil, pcmu, 101), newPort(t, nil, pcmu, 101)
	connect(a, b)
	closed := make(chan struct{})
	b.OnDTMF(func(media.DTMF) { b.Close(); close(closed) })
	a.SendDTMF(media.DTMF{Digit: '1', Duration: 60 * time.Millisecond})
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close from OnDTMF deadlocked")
	}
}

// TestDTMFRelayToInfoLeg: leg B negotiated telephone-event but its profile sends DTMF as SIP
// INFO; digits from leg A's RFC 4733 packets go out as INFO, not as forwarded events.
func TestDTMFRelayToInfoLeg(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	phoneA, legA := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	legB := newPort(t, clk, pcmu, 101)
	connect(phoneA, legA)
	info := make(chan media.DTMF, 4)
	legB.SetDTMFMode(media.DTMFInfo)
	legB.SetInfoSender(func(d media.DTMF) error { info <- d; return nil })
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	phoneA.SendDTMF(media.DTMF{Digit: '6', Duration: 80 * time.Millisecond})
	if d := waitDigits(t, info, 1)[0]; d.Digit != '6' {
		t.Fatalf("%+v", d)
	}
}

// TestDTMFGateKeepsHookedDigits: a relayed bridge whose legs both do RFC 4733 normally forwards
// the event packets as they come; a channel with a DTMF hook (bind_meta_app) sees each digit
// first, and the digits it keeps (the meta key) never reach the other leg, while the others
// are re-sent there.
func TestDTMFGateKeepsHookedDigits(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	phoneA, legA := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	legB, phoneB := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(phoneA, legA)
	connect(legB, phoneB)
	seenA := make(chan media.DTMF, 4)
	legA.SetDTMFGate(func() bool { return true }, func(d media.DTMF) bool {
		seenA <- d
		return d.Digit == '*'
	})
	heardB := make(chan media.DTMF, 4)
	phoneB.OnDTMF(func(d media.DTMF) { heardB <- d })
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	phoneA.SendDTMF(media.DTMF{Digit: '*', Duration: 80 * time.Millisecond})
	phoneA.SendDTMF(media.DTMF{Digit: '5', Duration: 80 * time.Millisecond})
	if got := waitDigits(t, seenA, 2); got[0].Digit != '*' || got[1].Digit != '5' {
		t.Fatalf("channel saw %+v", got)
	}
	if d := waitDigits(t, heardB, 1)[0]; d.Digit != '5' {
		t.Fatalf("other leg heard %q, want only 5", d.Digit)
	}
	select {
	case d := <-heardB:
		t.Fatalf("other leg also heard %q", d.Digit)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestDTMFInfoLegToEventLeg: a digit that arrives by SIP INFO on a leg relayed to a leg doing
// RFC 4733 goes out there as telephone-event packets.
func TestDTMFInfoLegToEventLeg(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	legA := newPort(t, clk, pcmu, 101)
	legA.SetDTMFMode(media.DTMFInfo)
	legA.SetRemote(newRawPeer(t).addr(), netipZero)
	legB, phoneB := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(legB, phoneB)
	heardB := make(chan media.DTMF, 4)
	phoneB.OnDTMF(func(d media.DTMF) { heardB <- d })
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	legA.ReceiveDTMF(media.DTMF{Digit: '7', Duration: 80 * time.Millisecond})
	if d := waitDigits(t, heardB, 1)[0]; d.Digit != '7' {
		t.Fatalf("other leg heard %+v", d)
	}
}
