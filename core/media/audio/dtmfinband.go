package audio

import (
	"fmt"
	"math"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// InbandDetector finds DTMF tones in linear PCM with the Goertzel algorithm: blocks of ~25.6 ms,
// eight filters, and the usual checks (each group's peak clearly above its neighbours, twist
// within 8 dB, tones carrying most of the block's energy). A digit must hold for two blocks and
// is reported when it stops, with its duration. It implements Tap so it can ride on a Stream.
type InbandDetector struct {
	rate    int
	block   []int16
	n       int
	coef    [8]float64
	cur     rune
	hits    int
	misses  int
	onDTMF  func(media.DTMF)
	blockMs float64
}

// NewInbandDetector detects at rate and calls fn (from the caller's goroutine) per digit.
func NewInbandDetector(rate int, fn func(media.DTMF)) *InbandDetector {
	n := rate * 256 / 10000 // 25.6 ms: 205 samples at 8 kHz (the classic block)
	d := &InbandDetector{rate: rate, block: make([]int16, n), onDTMF: fn, blockMs: float64(n) * 1000 / float64(rate)}
	for i := range 4 {
		d.coef[i] = 2 * math.Cos(2*math.Pi*dtmfLow[i]/float64(rate))
		d.coef[4+i] = 2 * math.Cos(2*math.Pi*dtmfHigh[i]/float64(rate))
	}
	return d
}

// OnFrame implements Tap (read direction only: we detect what the far end sends).
func (d *InbandDetector) OnFrame(dir media.Dir, f *media.Frame) {
	if dir == media.DirRead && f.Rate == d.rate {
		d.Process(f.PCM)
	}
}

// Process feeds samples.
func (d *InbandDetector) Process(pcm []int16) {
	for len(pcm) > 0 {
		k := copy(d.block[d.n:], pcm)
		d.n += k
		pcm = pcm[k:]
		if d.n == len(d.block) {
			d.n = 0
			d.analyse()
		}
	}
}

func (d *InbandDetector) analyse() {
	var pw [8]float64
	var total float64
	for _, s := range d.block {
		total += float64(s) * float64(s)
	}
	for i, c := range d.coef {
		var s1, s2 float64
		for _, x := range d.block {
			s := float64(x) + c*s1 - s2
			s2, s1 = s1, s
		}
		pw[i] = s1*s1 + s2*s2 - c*s1*s2
	}
	digit := rune(0)
	lo, hi := peak(pw[:4]), peak(pw[4:])
	n := float64(len(d.block))
	// Goertzel power of a sine of amplitude A over N samples is (A*N/2)^2; total energy is N*A^2/2.
	// So tone power / (N/2 * total) approaches 1 for a pure dual tone.
	if lo >= 0 && hi >= 0 {
		pl, ph := pw[lo], pw[4+hi]
		minPow := math.Pow(n/2*400, 2) // each tone at least ~-38 dBFS
		twist := pl / ph
		if pl > minPow && ph > minPow && twist < 6.3 && twist > 1/6.3 &&
			(pl+ph)/(n/2*total) > 0.6 {
			digit = rune(dtmfKeys[lo*4+hi])
		}
	}
	d.step(digit)
}

// peak returns the index of the strongest filter when it beats the others by 8 dB, else -1.
func peak(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	for i := range p {
		if i != best && p[i]*6.3 > p[best] {
			return -1
		}
	}
	return best
}

func (d *InbandDetector) step(digit rune) {
	switch {
	case digit != 0 && digit == d.cur:
		d.hits++
		d.misses = 0
	case digit != 0:
		d.report()
		d.cur, d.hits, d.misses = digit, 1, 0
	default:
		// One missed block is tolerated (a dropout inside a long digit).
		if d.cur != 0 {
			d.misses++
			if d.misses >= 2 {
				d.report()
				d.cur, d.hits, d.misses = 0, 0, 0
			}
		}
	}
}

func (d *InbandDetector) report() {
	if d.cur != 0 && d.hits >= 2 && d.onDTMF != nil {
		dur := time.Duration(float64(d.hits) * d.blockMs * float64(time.Millisecond))
		d.onDTMF(media.DTMF{Digit: d.cur, Duration: dur, Source: "INBAND_AUDIO"})
	}
	d.cur, d.hits = 0, 0
}

// NewDTMFTone renders digits as in-band tones (each on for dur, then off for gap) at rate.
func NewDTMFTone(digits string, dur, gap time.Duration, rate int) (*ToneGenerator, error) {
	sc := &ToneScript{Loops: 1}
	for _, c := range digits {
		lo, hi, ok := dtmfFreqs(c)
		if !ok {
			return nil, fmt.Errorf("media: not a DTMF digit %q", c)
		}
		sc.Segments = append(sc.Segments, ToneSegment{On: int(dur / time.Millisecond), Off: int(gap / time.Millisecond),
			Freqs: []float64{lo, hi}, Volume: defaultToneVolume, Repeat: 1})
	}
	if len(sc.Segments) == 0 {
		return nil, fmt.Errorf("media: no digits")
	}
	return sc.Generator(rate), nil
}
