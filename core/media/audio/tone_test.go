package audio

import (
	"io"
	"math"
	"testing"

	"github.com/goswitch/goswitch/core/media"
)

func TestParseTone(t *testing.T) {
	tests := []struct {
		spec     string
		segs     int
		loops    int
		firstOn  int
		firstOff int
		freqs    []float64
		wantErr  bool
	}{
		{spec: "%(2000,4000,440,480)", segs: 1, loops: 1, firstOn: 2000, firstOff: 4000, freqs: []float64{440, 480}},
		{spec: "tone_stream://%(400,200,400,450);%(400,2000,400,450)", segs: 2, loops: 1, firstOn: 400, firstOff: 200, freqs: []float64{400, 450}},
		{spec: "%(251,0,1004)", segs: 1, loops: 1, firstOn: 251, freqs: []float64{1004}},
		{spec: "v=-7;%(100,0,941.0,1477.0);v=-7;>=2;+=.1;%(1400,0,350,440)", segs: 2, loops: 1, firstOn: 100, freqs: []float64{941, 1477}},
		{spec: "L=3;%(500,500,480,620)", segs: 1, loops: 3, firstOn: 500, firstOff: 500, freqs: []float64{480, 620}},
		{spec: "%(2000,4000,440,480);loops=-1", segs: 1, loops: -1, firstOn: 2000, firstOff: 4000, freqs: []float64{440, 480}},
		{spec: "%(10000,0,350,440)", segs: 1, loops: 1, firstOn: 10000, freqs: []float64{350, 440}},
		{spec: "%(200,0,500,600,700)", segs: 1, loops: 1, firstOn: 200, freqs: []float64{500, 600, 700}},
		{spec: "123", segs: 3, loops: 1, firstOn: 100, firstOff: 50, freqs: []float64{697, 1209}},
		{spec: "", wantErr: true},
		{spec: "%(1,2", wantErr: true},
		{spec: "%(a,2,3)", wantErr: true},
		{spec: "x=3;%(1,2,3)", wantErr: true},
		{spec: "%(0,0,440);loops=-1", wantErr: true},
	}
	for _, tt := range tests {
		sc, err := ParseTone(tt.spec)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%q: want error", tt.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		if len(sc.Segments) != tt.segs || sc.Loops != tt.loops {
			t.Errorf("%q: segs %d loops %d", tt.spec, len(sc.Segments), sc.Loops)
			continue
		}
		s := sc.Segments[0]
		if s.On != tt.firstOn || s.Off != tt.firstOff || len(s.Freqs) != len(tt.freqs) {
			t.Errorf("%q: first segment %+v", tt.spec, s)
			continue
		}
		for i := range s.Freqs {
			if s.Freqs[i] != tt.freqs[i] {
				t.Errorf("%q: freq %v", tt.spec, s.Freqs)
			}
		}
	}
}

func readAll(t *testing.T, src media.Source, limit int) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, 160)
	for len(out) < limit {
		n, err := src.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestToneGeneratorCadence(t *testing.T) {
	// us-ring once: 2 s of 440+480, 4 s of silence.
	g, err := NewToneGenerator("%(2000,4000,440,480)", 8000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := readAll(t, g, 1<<20)
	if len(pcm) != 6*8000 {
		t.Fatalf("len %d, want %d", len(pcm), 6*8000)
	}
	if e := energy(pcm[:16000]); e < 1e6 {
		t.Errorf("on part energy %g too low", e)
	}
	if e := energy(pcm[16000:]); e != 0 {
		t.Errorf("off part energy %g", e)
	}
	// Goertzel confirms the frequencies.
	if p440, p1000 := goertzelPower(pcm[:1600], 8000, 440), goertzelPower(pcm[:1600], 8000, 1000); p440 < 100*p1000 {
		t.Errorf("440 Hz power %g vs 1000 Hz %g", p440, p1000)
	}
}

func TestToneMilliwattLevel(t *testing.T) {
	g, _ := NewToneGenerator("v=0;%(1000,0,1004)", 8000)
	pcm := readAll(t, g, 8000)
	peak := 0
	for _, s := range pcm {
		peak = max(peak, int(math.Abs(float64(s))))
	}
	if peak < 32000 {
		t.Errorf("v=0 peak %d, want full scale", peak)
	}
	g2, _ := NewToneGenerator("%(1000,0,1004)", 8000)
	pcm2 := readAll(t, g2, 8000)
	ratio := math.Sqrt(energy(pcm2) / energy(pcm))
	if db := 20 * math.Log10(ratio); math.Abs(db-defaultToneVolume) > 0.2 {
		t.Errorf("default level %.2f dB, want %.1f", db, defaultToneVolume)
	}
}

func TestToneLoopsAndDecay(t *testing.T) {
	g, _ := NewToneGenerator("L=3;%(100,100,480,620)", 8000)
	if n := len(readAll(t, g, 1<<20)); n != 3*1600 {
		t.Errorf("L=3: %d samples", n)
	}
	g, _ = NewToneGenerator("%(10,10,440);loops=-1", 8000)
	if n := len(readAll(t, g, 100000)); n < 100000 {
		t.Errorf("loops=-1 ended after %d", n)
	}
	g, _ = NewToneGenerator("v=0;>=10;+=3;%(1000,0,1000)", 8000)
	pcm := readAll(t, g, 8000)
	if a, b := energy(pcm[:400]), energy(pcm[7600:]); b >= a/100 {
		t.Errorf("decay: start %g end %g", a, b)
	}
}

func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return e
}

func goertzelPower(pcm []int16, rate int, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, x := range pcm {
		s := float64(x) + k*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - k*s1*s2
}
