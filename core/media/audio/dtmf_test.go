package media

import (
	"testing"
	"time"
)

func TestInbandRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		var got []DTMF
		det := NewInbandDetector(rate, func(d DTMF) { got = append(got, d) })
		g, err := NewDTMFTone("0123456789*#ABCD", 100*time.Millisecond, 60*time.Millisecond, rate)
		if err != nil {
			t.Fatal(err)
		}
		pcm := readAll(t, g, 1<<22)
		// Add faint noise: detection must survive it.
		n := newNoise(1)
		for i := range pcm {
			pcm[i] += int16(n.next() / 200)
		}
		for off := 0; off < len(pcm); off += rate / 50 {
			det.Process(pcm[off:min(off+rate/50, len(pcm))])
		}
		det.Process(make([]int16, rate/10))
		s := ""
		for _, d := range got {
			s += string(d.Digit)
			if d.Source != "INBAND_AUDIO" || d.Duration < 50*time.Millisecond || d.Duration > 130*time.Millisecond {
				t.Errorf("%d Hz: %+v", rate, d)
			}
		}
		if s != "0123456789*#ABCD" {
			t.Errorf("%d Hz: detected %q", rate, s)
		}
	}
}

func TestInbandRejectsSpeechLikeTones(t *testing.T) {
	var got []DTMF
	det := NewInbandDetector(8000, func(d DTMF) { got = append(got, d) })
	for _, spec := range []string{"%(1000,0,440,480)", "%(1000,0,1004)", "%(1000,0,697,770)", "v=-60;%(1000,0,697,1209)"} {
		g, _ := NewToneGenerator(spec, 8000)
		det.Process(readAll(t, g, 1<<20))
		det.Process(make([]int16, 800))
	}
	if len(got) != 0 {
		t.Fatalf("false detections: %+v", got)
	}
}

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
	s.queue = []DTMF{{Digit: '1', Duration: 250 * time.Millisecond}, {Digit: '#', Duration: 100 * time.Millisecond}}
	r := dtmfReceiver{rate: 8000}
	var got []DTMF
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
