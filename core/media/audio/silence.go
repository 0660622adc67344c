package audio

import (
	"io"
	"math"
)

// Noise is a small xorshift generator: comfort noise needs no cryptographic quality and must not
// touch shared state (math/rand's global source locks).
type Noise struct{ s uint32 }

func NewNoise(seed uint32) Noise {
	if seed == 0 {
		seed = 0x9E3779B9
	}
	return Noise{seed}
}

// Next returns the next sample, uniform in [-32768, 32767].
func (n *Noise) Next() int32 {
	n.s ^= n.s << 13
	n.s ^= n.s >> 17
	n.s ^= n.s << 5
	return int32(n.s>>16) - 32768 // uniform in [-32768, 32767]
}

// Fill writes uniform noise with the given peak amplitude.
func (n *Noise) Fill(dst []int16, peak int32) {
	g := *n // a local copy stays in a register; the writes to dst would otherwise reload it
	for i := range dst {
		dst[i] = int16(g.Next() * peak / 32768)
	}
	*n = g
}

// cnLevelPeak converts an RFC 3389 noise level (-dBov, 0..127) to a peak amplitude.
func cnLevelPeak(level uint8) int32 {
	// Uniform noise has rms = peak/sqrt(3).
	rms := 32768 * math.Pow(10, -float64(level)/20)
	return int32(math.Min(32767, rms*math.Sqrt(3)))
}

// CNLevel is the RFC 3389 noise level of pcm (its mean power) in -dBov (0..127); false for
// digital zero.
func CNLevel(pcm []int16) (uint8, bool) {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	if e == 0 || len(pcm) == 0 {
		return 0, false
	}
	dbov := 10 * math.Log10(e/float64(len(pcm))/(32768*32768))
	return uint8(min(max(-dbov, 0), 127)), true
}

// SilenceSource is silence_stream://<ms>[,<noise_divisor>]: silence or faint comfort noise.
type SilenceSource struct {
	rate    int
	left    int // samples left; < 0 = forever
	divisor int
	n       Noise
}

// NewSilence produces ms milliseconds (ms <= 0: forever) of silence at rate. A divisor > 0 adds
// comfort noise whose level falls as the divisor grows, like FreeSWITCH's silence_stream.
func NewSilence(rate, ms, divisor int) *SilenceSource {
	left := -1
	if ms > 0 {
		left = rate * ms / 1000
	}
	return &SilenceSource{rate: rate, left: left, divisor: divisor, n: NewNoise(uint32(rate*31 + ms))}
}

// Rate implements Source.
func (s *SilenceSource) Rate() int { return s.rate }

// Read implements Source.
func (s *SilenceSource) Read(pcm []int16) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	n := len(pcm)
	if s.left > 0 {
		n = min(n, s.left)
		s.left -= n
	}
	if s.divisor > 0 {
		s.n.Fill(pcm[:n], int32(1024/s.divisor)+1)
	} else {
		clear(pcm[:n])
	}
	return n, nil
}

// ComfortNoise fills frames with noise at an RFC 3389 level (-dBov); the mixer and the CN
// receive path use it so silence never sounds like a dropped call.
type ComfortNoise struct {
	n    Noise
	peak int32
}

// NewComfortNoise creates a generator at level -dBov (FreeSWITCH's conference default 1400 maps to
// roughly level 60 in these terms; callers choose).
func NewComfortNoise(level uint8) *ComfortNoise {
	return &ComfortNoise{n: NewNoise(uint32(level) + 7), peak: cnLevelPeak(level)}
}

// SetLevel changes the level.
func (c *ComfortNoise) SetLevel(level uint8) { c.peak = cnLevelPeak(level) }

// Fill writes noise into dst.
func (c *ComfortNoise) Fill(dst []int16) { c.n.Fill(dst, c.peak) }
