package audio

import (
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

func TestInbandRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		var got []media.DTMF
		det := NewInbandDetector(rate, func(d media.DTMF) { got = append(got, d) })
		g, err := NewDTMFTone("0123456789*#ABCD", 100*time.Millisecond, 60*time.Millisecond, rate)
		if err != nil {
			t.Fatal(err)
		}
		pcm := readAll(t, g, 1<<22)
		// Add faint noise: detection must survive it.
		n := NewNoise(1)
		for i := range pcm {
			pcm[i] += int16(n.Next() / 200)
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
	var got []media.DTMF
	det := NewInbandDetector(8000, func(d media.DTMF) { got = append(got, d) })
	for _, spec := range []string{"%(1000,0,440,480)", "%(1000,0,1004)", "%(1000,0,697,770)", "v=-60;%(1000,0,697,1209)"} {
		g, _ := NewToneGenerator(spec, 8000)
		det.Process(readAll(t, g, 1<<20))
		det.Process(make([]int16, 800))
	}
	if len(got) != 0 {
		t.Fatalf("false detections: %+v", got)
	}
}
