package rtp_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	pionrtp "github.com/pion/rtp"
)

// TestEchoReturnsPacketsNotDigits: Echo sends each audio packet back unchanged (payload and
// duration, renumbered on the port's SSRC), reports RFC 4733 digits to OnDTMF without echoing
// them, and sends nothing of its own.
func TestEchoReturnsPacketsNotDigits(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	p := newPort(t, clk, media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, Ptime: 30 * time.Millisecond}, 101)
	phone := newRawPeer(t)
	p.SetRemote(phone.addr(), netipZero)
	digits := make(chan media.DTMF, 4)
	p.OnDTMF(func(d media.DTMF) { digits <- d })
	stop := p.Echo()
	if !strings.Contains(p.String(), "relay(echo)") {
		t.Errorf("pipeline %s", p.String())
	}
	var prev *pionrtp.Packet
	for i := range 5 {
		pay := bytes.Repeat([]byte{byte(0x10 + i)}, 240)
		phone.send(t, p.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 77, SequenceNumber: uint16(40 + i), Timestamp: uint32(9000 + 240*i)}, pay)
		got, ok := phone.recv(t, time.Second)
		if !ok {
			t.Fatalf("packet %d not echoed", i)
		}
		if !bytes.Equal(got.Payload, pay) || got.PayloadType != 0 {
			t.Errorf("packet %d came back as pt %d, %d bytes %x...", i, got.PayloadType, len(got.Payload), got.Payload[:4])
		}
		if prev != nil && (got.Timestamp-prev.Timestamp != 240 || got.SequenceNumber != prev.SequenceNumber+1 || got.SSRC != prev.SSRC) {
			t.Errorf("packet %d: seq %d ts %d after seq %d ts %d", i, got.SequenceNumber, got.Timestamp, prev.SequenceNumber, prev.Timestamp)
		}
		prev = got
	}
	// A digit: start and three end packets.
	for i, end := range []bool{false, true, true, true} {
		ev := []byte{5, 10, 0x03, 0x20}
		if end {
			ev[1] |= 0x80
		}
		phone.send(t, p.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 101, Marker: i == 0, SSRC: 77, SequenceNumber: uint16(45 + i), Timestamp: 10200}, ev)
	}
	select {
	case d := <-digits:
		if d.Digit != '5' {
			t.Errorf("digit %q", d.Digit)
		}
	case <-time.After(2 * time.Second):
		t.Error("digit not reported")
	}
	if got, ok := phone.recv(t, 300*time.Millisecond); ok {
		t.Errorf("echo sent pt %d after the audio (digits or silence)", got.PayloadType)
	}
	stop()
	if strings.Contains(p.String(), "relay") {
		t.Errorf("after stop: %s", p.String())
	}
}
