package g722

import (
	"github.com/goswitch/goswitch/core/media"
	"hash/fnv"
	"math"
	"testing"
)

// signal makes test audio at 16 kHz.
func sine(n int, f, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/16000))
	}
	return out
}

// speechLike is a crude voiced-speech stand-in: a 140 Hz harmonic series with falling
// amplitude and a slow syllable envelope, plus a little noise.
func speechLike(n int) []int16 {
	out := make([]int16, n)
	seed := uint32(1)
	for i := range out {
		t := float64(i) / 16000
		env := 0.55 + 0.45*math.Sin(2*math.Pi*3*t)
		var v float64
		for h := 1; h <= 25; h++ {
			v += math.Sin(2*math.Pi*140*float64(h)*t+float64(h)) / float64(h)
		}
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		noise := float64(int32(seed>>16)-32768) / 32768
		out[i] = int16(env * (5000*v + 200*noise))
	}
	return out
}

func roundTrip(pcm []int16) []int16 {
	enc, dec := NewEncoder(), NewDecoder()
	out := make([]int16, 0, len(pcm))
	pay := make([]byte, 160)
	frame := make([]int16, 320)
	for off := 0; off+320 <= len(pcm); off += 320 {
		n, _ := enc.Encode(pay, pcm[off:off+320])
		m, _ := dec.Decode(frame, pay[:n])
		out = append(out, frame[:m]...)
	}
	return out
}

// bestSNR aligns the output for the codec's delay (QMF + ADPCM) and returns the best SNR.
func bestSNR(ref, got []int16) (float64, int) {
	best, lag := math.Inf(-1), 0
	for d := 0; d < 80; d++ {
		var s, e float64
		for i := 400; i+d < len(got) && i < len(ref)-400; i++ {
			r := float64(ref[i])
			x := float64(got[i+d])
			s += r * r
			e += (r - x) * (r - x)
		}
		if v := 10 * math.Log10(s/e); v > best {
			best, lag = v, d
		}
	}
	return best, lag
}

func TestSineSNR(t *testing.T) {
	for _, f := range []float64{300, 1004, 3000, 6000} {
		ref := sine(16000, f, 8000)
		s, lag := bestSNR(ref, roundTrip(ref))
		t.Logf("%g Hz: SNR %.1f dB at lag %d", f, s, lag)
		if s < 25 {
			t.Errorf("%g Hz: SNR %.1f dB < 25", f, s)
		}
	}
}

func TestSpeechSNR(t *testing.T) {
	ref := speechLike(32000)
	s, lag := bestSNR(ref, roundTrip(ref))
	t.Logf("speech-like: SNR %.1f dB at lag %d", s, lag)
	if s < 15 {
		t.Errorf("speech-like SNR %.1f dB < 15", s)
	}
}

func TestSilenceStaysQuiet(t *testing.T) {
	out := roundTrip(make([]int16, 3200))
	for i, v := range out {
		if v > 64 || v < -64 {
			t.Fatalf("sample %d = %d from silence", i, v)
		}
	}
}

func TestEncodeDecodeNoAlloc(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	pcm := sine(320, 1000, 8000)
	pay := make([]byte, 160)
	if a := testing.AllocsPerRun(100, func() {
		enc.Encode(pay, pcm)
		dec.Decode(pcm, pay)
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}

func TestConceal(t *testing.T) {
	d := NewDecoder()
	out := make([]int16, 320)
	pay := make([]byte, 160)
	NewEncoder().Encode(pay, sine(320, 500, 8000))
	d.Decode(out, pay)
	for range 5 {
		d.Conceal(out)
	}
	for _, v := range out {
		if v != 0 {
			t.Fatal("not silent after 5 losses")
		}
	}
}

func BenchmarkEncodeDecode20ms(b *testing.B) {
	enc, dec := NewEncoder(), NewDecoder()
	pcm := speechLike(320)
	out := make([]int16, 320)
	pay := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		enc.Encode(pay, pcm)
		dec.Decode(out, pay)
	}
}

func TestRegistered(t *testing.T) {
	c, ok := media.LookupCodec("G722", 8000, 1)
	if !ok || c.Info().SampleRate != 16000 || c.Info().PT != 9 {
		t.Fatalf("%v %+v", ok, c)
	}
}

// TestGoldenBitstream pins the encoder output and decoder output for a fixed signal, so
// optimisations cannot silently change the bitstream (the values were produced by the
// straightforward transcription of the recommendation's blocks, checked by the SNR tests).
func TestGoldenBitstream(t *testing.T) {
	pcm := speechLike(3200)
	enc, dec := NewEncoder(), NewDecoder()
	pay := make([]byte, 1600)
	n, _ := enc.Encode(pay, pcm)
	out := make([]int16, 3200)
	dec.Decode(out, pay[:n])
	h := fnv.New64a()
	h.Write(pay[:n])
	for _, v := range out {
		h.Write([]byte{byte(v), byte(v >> 8)})
	}
	t.Logf("golden %#x", h.Sum64())
	if got := h.Sum64(); golden != 0 && got != golden {
		t.Fatalf("bitstream changed: %#x, want %#x", got, golden)
	}
}

const golden = 0x3af7ac2b7b41a5e
