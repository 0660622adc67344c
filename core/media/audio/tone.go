package audio

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ToneSegment is one %(on,off,f1,f2...) element of a tone_stream script, with the settings in
// force when it was parsed.
type ToneSegment struct {
	On, Off   int       // milliseconds
	Freqs     []float64 // Hz; none = silence
	Volume    float64   // dBFS
	DecayStep int       // ms between volume steps (">=" / "<="), 0 = none
	DecayDir  int       // -1 fades out (">="), +1 fades in ("<=")
	DecayDB   float64   // dB per step ("+=")
	Repeat    int       // "l=" repeats of this segment
}

// ToneScript is a parsed FreeSWITCH tone_stream (TGML) script.
type ToneScript struct {
	Segments []ToneSegment
	Loops    int // plays of the whole script; -1 = forever ("L=" or ";loops=")
}

// DTMF frequency pairs (ITU-T Q.23), used by tone scripts and in-band DTMF generation.
var dtmfLow = [4]float64{697, 770, 852, 941}
var dtmfHigh = [4]float64{1209, 1336, 1477, 1633}

const dtmfKeys = "123A456B789C*0#D"

// dtmfFreqs returns the two frequencies of a DTMF key.
func dtmfFreqs(d rune) (lo, hi float64, ok bool) {
	i := strings.IndexRune(dtmfKeys, d)
	if d >= 'a' && d <= 'd' {
		i = strings.IndexRune(dtmfKeys, d-'a'+'A')
	}
	if i < 0 {
		return 0, 0, false
	}
	return dtmfLow[i/4], dtmfHigh[i%4], true
}

// defaultToneVolume mirrors libteletone's default level (-7 dB below full scale).
const defaultToneVolume = -7.0

// ParseTone parses a tone_stream:// body such as "%(2000,4000,440,480)",
// "v=-7;%(100,0,941,1477);v=-7;>=2;+=.1;%(1400,0,350,440)", "L=3;%(500,500,480,620)" or
// "%(2000,4000,440,480);loops=-1". Bare digits ("123#") play DTMF tones of d= ms with w= ms gaps.
func ParseTone(spec string) (*ToneScript, error) {
	spec = strings.TrimPrefix(strings.TrimSpace(spec), "tone_stream://")
	sc := &ToneScript{Loops: 1}
	vol := defaultToneVolume
	step, dir, dbStep, repeat := 0, 0, 1.0, 1
	digitOn, digitOff := 100, 50
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		switch {
		case strings.HasPrefix(part, "%(") && strings.HasSuffix(part, ")"):
			f := strings.Split(part[2:len(part)-1], ",")
			if len(f) < 2 {
				return nil, fmt.Errorf("media: tone %q: need on,off[,freq...]", part)
			}
			seg := ToneSegment{Volume: vol, DecayStep: step, DecayDir: dir, DecayDB: dbStep, Repeat: repeat}
			var err error
			if seg.On, err = atoiTone(f[0]); err != nil {
				return nil, err
			}
			if seg.Off, err = atoiTone(f[1]); err != nil {
				return nil, err
			}
			for _, x := range f[2:] {
				v, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
				if err != nil || v < 0 || v > 24000 {
					return nil, fmt.Errorf("media: tone frequency %q", x)
				}
				seg.Freqs = append(seg.Freqs, v)
			}
			sc.Segments = append(sc.Segments, seg)
			repeat = 1
		case strings.Contains(part, "="):
			k, v, _ := strings.Cut(part, "=")
			k = strings.TrimSpace(k)
			fv, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("media: tone setting %q", part)
			}
			switch k {
			case "v":
				vol = math.Max(-63, math.Min(0, fv))
			case ">":
				step, dir = int(fv), -1
			case "<":
				step, dir = int(fv), 1
			case "+":
				dbStep = fv
			case "l":
				repeat = max(1, int(fv))
			case "L", "loops":
				sc.Loops = int(fv)
				if sc.Loops == 0 {
					sc.Loops = 1
				}
			case "d":
				digitOn = int(fv)
			case "w":
				digitOff = int(fv)
			case "c", "r":
				// Channels and rate come from the stream; accepted for compatibility.
			default:
				return nil, fmt.Errorf("media: unknown tone setting %q", part)
			}
		default:
			for _, d := range part {
				lo, hi, ok := dtmfFreqs(d)
				if !ok {
					return nil, fmt.Errorf("media: tone element %q", part)
				}
				sc.Segments = append(sc.Segments, ToneSegment{On: digitOn, Off: digitOff,
					Freqs: []float64{lo, hi}, Volume: vol, Repeat: 1})
			}
		}
	}
	audible := false
	for _, s := range sc.Segments {
		audible = audible || s.On+s.Off > 0
	}
	if !audible {
		// Also guards Read against looping forever over zero-length segments.
		return nil, fmt.Errorf("media: empty tone script %q", spec)
	}
	return sc, nil
}

func atoiTone(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("media: tone duration %q", s)
	}
	return v, nil
}

// ToneGenerator renders a ToneScript as PCM; it implements Source.
type ToneGenerator struct {
	sc    *ToneScript
	rate  int
	loop  int // completed plays of the script
	seg   int
	rep   int
	pos   int // sample within the current segment (on+off)
	phase []float64
	done  bool
}

// NewToneGenerator parses spec and renders it at rate.
func NewToneGenerator(spec string, rate int) (*ToneGenerator, error) {
	sc, err := ParseTone(spec)
	if err != nil {
		return nil, err
	}
	return sc.Generator(rate), nil
}

// Generator starts rendering the script at rate.
func (sc *ToneScript) Generator(rate int) *ToneGenerator {
	return &ToneGenerator{sc: sc, rate: rate, phase: make([]float64, 8)}
}

// Append queues o's segments after the ones g is playing (in-band digits sent while earlier
// digits are still sounding).
func (g *ToneGenerator) Append(o *ToneGenerator) {
	g.sc.Segments = append(g.sc.Segments, o.sc.Segments...)
}

// Rate implements Source.
func (g *ToneGenerator) Rate() int { return g.rate }

// Read implements Source; it returns io.EOF after the last loop (never for Loops = -1).
func (g *ToneGenerator) Read(pcm []int16) (int, error) {
	if g.done {
		return 0, io.EOF
	}
	n := 0
	for n < len(pcm) {
		s := &g.sc.Segments[g.seg]
		on := s.On * g.rate / 1000
		total := on + s.Off*g.rate/1000
		if total == 0 {
			if g.advance() {
				break
			}
			continue
		}
		for n < len(pcm) && g.pos < total {
			if g.pos < on && len(s.Freqs) > 0 {
				pcm[n] = g.sample(s)
			} else {
				pcm[n] = 0
			}
			g.pos++
			n++
		}
		if g.pos >= total && g.advance() {
			break
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (g *ToneGenerator) sample(s *ToneSegment) int16 {
	db := s.Volume
	if s.DecayStep > 0 {
		steps := g.pos * 1000 / g.rate / s.DecayStep
		db += float64(s.DecayDir) * s.DecayDB * float64(steps)
		db = math.Max(-63, math.Min(0, db))
	}
	amp := 32767 * math.Pow(10, db/20) / float64(len(s.Freqs))
	var v float64
	for i, f := range s.Freqs {
		if i >= len(g.phase) {
			break
		}
		v += math.Sin(g.phase[i])
		g.phase[i] += 2 * math.Pi * f / float64(g.rate)
		if g.phase[i] > 2*math.Pi {
			g.phase[i] -= 2 * math.Pi
		}
	}
	return Clip16(int32(v * amp))
}

// advance moves to the next segment; it reports true when the script is finished.
func (g *ToneGenerator) advance() bool {
	g.pos = 0
	clear(g.phase)
	g.rep++
	if g.rep < g.sc.Segments[g.seg].Repeat {
		return false
	}
	g.rep = 0
	g.seg++
	if g.seg < len(g.sc.Segments) {
		return false
	}
	g.seg = 0
	g.loop++
	if g.sc.Loops >= 0 && g.loop >= g.sc.Loops {
		g.done = true
		return true
	}
	return false
}
