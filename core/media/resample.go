package media

import "math"

// Resampler converts mono 16-bit PCM between rates whose ratio is rational (8, 16, 32, 48 kHz)
// with a polyphase windowed-sinc filter. It keeps history between calls, so a stream is converted
// without clicks at frame edges. Not goroutine-safe; Process does not allocate after the first call
// with a given frame size.
type Resampler struct {
	in, out int
	l, m    int       // upsample by l, downsample by m
	k       int       // taps per phase
	h       []float32 // prototype filter, len l*k, phase-major access h[ph+i*l]
	work    []int16   // history (k-1) followed by the current input
	u       int       // position of the next output in the upsampled domain, relative to input start
}

// NewResampler builds a converter from rate in to rate out (Hz).
func NewResampler(in, out int) *Resampler {
	g := gcd(in, out)
	r := &Resampler{in: in, out: out, l: out / g, m: in / g}
	if r.l == r.m {
		return r
	}
	// About 16 zero crossings per side of the narrower band: good to ~60 dB at 8 <-> 48 kHz.
	const zc = 16
	n := zc * max(r.l, r.m)
	r.k = (n + r.l - 1) / r.l
	n = r.k * r.l
	r.h = make([]float32, n)
	fc := 0.45 / float64(max(r.l, r.m)) // cutoff as a fraction of the upsampled rate
	// Centre the symmetric filter on a multiple of m so the delay is a whole number of output
	// samples (callers can line streams up exactly); taps beyond 2*c stay zero.
	c := (n - 1) / 2 / r.m * r.m
	for j := 0; j <= 2*c; j++ {
		x := float64(j - c)
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(math.Pi*float64(j)/float64(c)) + 0.08*math.Cos(2*math.Pi*float64(j)/float64(c))
		r.h[j] = float32(s * w * float64(r.l))
	}
	r.work = make([]int16, r.k-1, r.k-1+960)
	return r
}

// OutLen returns how many samples Process produces at most for n input samples.
func (r *Resampler) OutLen(n int) int { return (n*r.l)/r.m + 1 }

// Process converts src into dst and returns the number of samples written. dst should hold
// OutLen(len(src)) samples.
func (r *Resampler) Process(dst, src []int16) int {
	if r.l == r.m {
		return copy(dst, src)
	}
	r.work = append(r.work[:r.k-1], src...)
	x := r.work
	end := len(src) * r.l
	n := 0
	u := r.u
	for ; u < end && n < len(dst); u += r.m {
		i := u/r.l + r.k - 1
		ph := u % r.l
		var acc float32
		hp := r.h[ph:]
		for t := 0; t < r.k; t++ {
			acc += hp[t*r.l] * float32(x[i-t])
		}
		dst[n] = clip16(int32(acc))
		n++
	}
	r.u = u - end
	copy(r.work, x[len(x)-(r.k-1):])
	r.work = r.work[:r.k-1]
	return n
}

// Reset forgets the history (new stream).
func (r *Resampler) Reset() {
	clear(r.work)
	r.u = 0
}

// In and Out return the rates.
func (r *Resampler) In() int  { return r.in }
func (r *Resampler) Out() int { return r.out }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func clip16(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
