package resample

import (
	"math"
	"testing"
)

func sine(n, rate int, f float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(10000 * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return out
}

// snrVsIdeal compares the output with the ideal sine at the output rate, allowing for delay.
func snrVsIdeal(out []int16, rate int, f float64) float64 {
	best := math.Inf(-1)
	for lag := 0; lag < 120; lag++ {
		var s, e float64
		for i := 500; i < min(len(out)-200, 500+rate/8); i++ {
			ref := 10000 * math.Sin(2*math.Pi*f*float64(i-lag)/float64(rate))
			d := ref - float64(out[i])
			s += ref * ref
			e += d * d
		}
		best = max(best, 10*math.Log10(s/e))
	}
	return best
}

func TestConversions(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		f       float64
		minSNR  float64
	}{{8000, 16000, 1000, 40}, {16000, 8000, 1000, 40}, {8000, 48000, 440, 40}, {48000, 8000, 1000, 40},
		{16000, 48000, 3000, 40}, {48000, 16000, 5000, 35}} {
		r := New(tc.in, tc.out)
		src := sine(tc.in, tc.in, tc.f) // one second
		var out []int16
		buf := make([]int16, r.OutLen(tc.in/50))
		for off := 0; off < len(src); off += tc.in / 50 {
			n := r.Process(buf, src[off:off+tc.in/50])
			out = append(out, buf[:n]...)
		}
		if d := len(out) - tc.out; d < -1 || d > 1 {
			t.Errorf("%d->%d: %d samples for one second", tc.in, tc.out, len(out))
		}
		if s := snrVsIdeal(out, tc.out, tc.f); s < tc.minSNR {
			t.Errorf("%d->%d at %g Hz: SNR %.1f dB", tc.in, tc.out, tc.f, s)
		}
	}
}

func TestDownsampleRejectsAliases(t *testing.T) {
	// 6 kHz cannot exist at 8 kHz: it must be filtered, not folded to 2 kHz.
	r := New(16000, 8000)
	src := sine(16000, 16000, 6000)
	out := make([]int16, r.OutLen(len(src)))
	n := r.Process(out, src)
	var e float64
	for _, v := range out[200:n] {
		e += float64(v) * float64(v)
	}
	rms := math.Sqrt(e / float64(n-200))
	if rms > 100 { // input rms ~7071
		t.Errorf("alias rms %.0f", rms)
	}
}

func TestNoAllocSteadyState(t *testing.T) {
	r := New(8000, 16000)
	src := sine(160, 8000, 1000)
	dst := make([]int16, 321)
	r.Process(dst, src)
	if a := testing.AllocsPerRun(100, func() { r.Process(dst, src) }); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}
