package g711

import (
	"math"
	"testing"

	"github.com/goswitch/goswitch/core/media"
)

func sine(n, rate int, f, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return out
}

func snr(ref, got []int16) float64 {
	var s, e float64
	for i := range ref {
		d := float64(ref[i]) - float64(got[i])
		s += float64(ref[i]) * float64(ref[i])
		e += d * d
	}
	return 10 * math.Log10(s/e)
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"PCMU", "pcma"} {
		c, ok := media.LookupCodec(name, 8000, 1)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		if c.Info().ClockRate != 8000 {
			t.Fatal(c.Info())
		}
	}
}

func TestRoundTripSNR(t *testing.T) {
	ref := sine(1600, 8000, 1004, 10000)
	for _, c := range []Codec{PCMU, PCMA} {
		enc, dec := c.NewEncoder(), c.NewDecoder()
		pay := make([]byte, 160)
		out := make([]int16, 1600)
		for off := 0; off < len(ref); off += 160 {
			n, err := enc.Encode(pay, ref[off:off+160])
			if err != nil || n != 160 {
				t.Fatal(n, err)
			}
			if _, err := dec.Decode(out[off:], pay[:n]); err != nil {
				t.Fatal(err)
			}
		}
		// G.711 gives about 38 dB SNR on a loud sine.
		if s := snr(ref, out); s < 33 {
			t.Errorf("%s SNR %.1f dB", c.Info().Name, s)
		}
	}
}

func TestGolden(t *testing.T) {
	// ITU-T G.711 reference points: u-law 0x00 = -32124, 0x80 = 32124, 0xFF = 0; A-law 0xD5 = 8, 0x55 = -8.
	tests := []struct {
		c    Codec
		b    byte
		want int16
	}{{PCMU, 0x00, -32124}, {PCMU, 0x80, 32124}, {PCMU, 0xFF, 0}, {PCMA, 0xD5, 8}, {PCMA, 0x55, -8}, {PCMA, 0xAA, 32256}}
	for _, tt := range tests {
		out := make([]int16, 1)
		tt.c.NewDecoder().Decode(out, []byte{tt.b})
		if out[0] != tt.want {
			t.Errorf("%s %#x -> %d, want %d", tt.c.Info().Name, tt.b, out[0], tt.want)
		}
	}
}

func TestDirectTranscodeMatchesPCM(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]byte, 256)
	UlawToAlaw(dst, src)
	pcmU := make([]int16, 256)
	pcmA := make([]int16, 256)
	PCMU.NewDecoder().Decode(pcmU, src)
	PCMA.NewDecoder().Decode(pcmA, dst)
	for i := range pcmU {
		d := math.Abs(float64(pcmU[i]) - float64(pcmA[i]))
		if d > math.Max(16, math.Abs(float64(pcmU[i]))/8) {
			t.Errorf("u %#x: %d vs a %d", i, pcmU[i], pcmA[i])
		}
	}
}

func TestConcealFades(t *testing.T) {
	d := PCMU.NewDecoder()
	pay := make([]byte, 160)
	PCMU.NewEncoder().Encode(pay, sine(160, 8000, 400, 8000))
	out := make([]int16, 160)
	d.Decode(out, pay)
	var prev float64 = math.Inf(1)
	for i := range 6 {
		d.Conceal(out)
		var e float64
		for _, s := range out {
			e += float64(s) * float64(s)
		}
		if e > prev || (i >= 4 && e != 0) {
			t.Fatalf("loss %d energy %g (prev %g)", i+1, e, prev)
		}
		prev = e
	}
}

func TestEncodeNoAlloc(t *testing.T) {
	enc := PCMU.NewEncoder()
	dec := PCMU.NewDecoder()
	pcm := sine(160, 8000, 440, 5000)
	pay := make([]byte, 160)
	if a := testing.AllocsPerRun(100, func() {
		enc.Encode(pay, pcm)
		dec.Decode(pcm, pay)
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}
