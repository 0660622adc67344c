package rtp

import (
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

func TestTelephoneEventCodec(t *testing.T) {
	b := make([]byte, 4)
	e := TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 1600}
	e.Marshal(b)
	if b[0] != 11 || b[1] != 0x8a || b[2] != 0x06 || b[3] != 0x40 {
		t.Fatalf("% x", b)
	}
	got, err := ParseTelephoneEvent(b)
	if err != nil || got != e {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := ParseTelephoneEvent(b[:3]); err == nil {
		t.Fatal("short payload accepted")
	}
}

func TestDTMFSenderReceiver(t *testing.T) {
	var s dtmfSender
	s.queue = []media.DTMF{{Digit: '1', Duration: 250 * time.Millisecond}, {Digit: '#', Duration: 100 * time.Millisecond}}
	r := dtmfReceiver{rate: 8000}
	var got []media.DTMF
	ts := uint32(1000)
	b := make([]byte, 4)
	packets := 0
	for tick := 0; tick < 100 && s.busy(); tick++ {
		ev, send, start := s.step(160, 8000)
		if !send {
			continue
		}
		if start {
			ts += 8000
		}
		packets++
		ev.Marshal(b)
		if d, ok, p, okp := r.ingest(ts, b); ok || okp {
			if okp {
				got = append(got, p)
			}
			if ok {
				got = append(got, d)
			}
		}
	}
	// 250 ms = 2000 samples = 13 updates (last one is an end) + 2 more ends; 100 ms = 5 + 2.
	if packets != 15+7 {
		t.Errorf("packets %d", packets)
	}
	if len(got) != 2 || got[0].Digit != '1' || got[0].Samples() != 2000 || got[1].Digit != '#' || got[1].Samples() != 800 {
		t.Fatalf("got %+v", got)
	}
}

func TestDTMFReceiverLostEnd(t *testing.T) {
	r := dtmfReceiver{rate: 8000}
	b := make([]byte, 4)
	TelephoneEvent{Event: 5, Duration: 480}.Marshal(b)
	if _, ok, _, okp := r.ingest(100, b); ok || okp {
		t.Fatal("reported early")
	}
	TelephoneEvent{Event: 7, Duration: 160}.Marshal(b)
	_, ok, prev, okp := r.ingest(5000, b)
	if ok || !okp || prev.Digit != '5' || prev.Samples() != 480 {
		t.Fatalf("prev %+v %v %v", prev, ok, okp)
	}
}
