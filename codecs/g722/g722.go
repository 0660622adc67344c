// Package g722 is a G.722 (ITU-T G.722, 64 kbit/s mode) encoder and decoder written from the
// recommendation: a 24-tap QMF splits 16 kHz audio into two 8 kHz sub-bands, coded with 6-bit
// (lower) and 2-bit (higher) ADPCM. It registers "G722" with the media codec registry: PT 9,
// RTP clock 8000 (RFC 3551's historical quirk), PCM at 16000. Encoders and decoders allocate
// nothing per frame.
package g722

import (
	"errors"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

func init() { media.RegisterCodec(Codec{}) }

// ErrShortBuffer is returned when dst cannot hold the output.
var ErrShortBuffer = errors.New("g722: destination too short")

// Codec is G.722 for the registry.
type Codec struct{}

// Info implements media.Codec.
func (Codec) Info() media.CodecInfo {
	return media.CodecInfo{Name: "G722", PT: 9, ClockRate: 8000, SampleRate: 16000, Channels: 1, Ptime: 20 * time.Millisecond}
}

// NewEncoder implements media.Codec.
func (Codec) NewEncoder() media.Encoder { return NewEncoder() }

// NewDecoder implements media.Codec.
func (Codec) NewDecoder() media.Decoder { return NewDecoder() }

// Encoder is one direction's encoder state.
type Encoder struct {
	q    qmfLine
	band [2]band
}

// NewEncoder returns an encoder in the reset state (§3.6: DETL=32, DETH=8).
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.band[0].det, e.band[1].det = 32, 8
	return e
}

// Encode codes 16 kHz PCM (an even number of samples) into one byte per sample pair.
func (e *Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	n := len(pcm) / 2
	if len(dst) < n {
		return 0, ErrShortBuffer
	}
	lo, hi := &e.band[0], &e.band[1]
	for j := range n {
		// Transmit QMF: shift in two samples, keep one output per sub-band.
		odd, even := e.q.push(int(pcm[2*j]), int(pcm[2*j+1]))
		xl := (even + odd) >> 14
		xh := (even - odd) >> 14

		// Lower band: SUBTRA, QUANTL (6 bits).
		el := sat(xl - lo.s)
		mag := el
		if el < 0 {
			mag = -(el + 1)
		}
		i := quantL(mag, lo.det)
		il := ilp[i]
		if el < 0 {
			il = iln[i]
		}
		lo.lowerAdapt(il)

		// Higher band: SUBTRA, QUANTH (2 bits).
		eh := sat(xh - hi.s)
		mag = eh
		if eh < 0 {
			mag = -(eh + 1)
		}
		mih := 1
		if mag >= (564*hi.det)>>12 {
			mih = 2
		}
		ih := ihp[mih]
		if eh < 0 {
			ih = ihn[mih]
		}
		hi.higherAdapt(ih)
		dst[j] = byte(ih<<6 | il)
	}
	return n, nil
}

// Decoder is one direction's decoder state.
type Decoder struct {
	q    qmfLine
	band [2]band
	last [640]int16 // last decoded frame, for concealment
	nl   int
	lost int
}

// NewDecoder returns a decoder in the reset state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.band[0].det, d.band[1].det = 32, 8
	return d
}

// Decode turns each byte into two 16 kHz samples.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < 2*len(payload) {
		return 0, ErrShortBuffer
	}
	lo, hi := &d.band[0], &d.band[1]
	for j, c := range payload {
		il, ih := int(c&0x3f), int(c>>6)
		// INVQBL + RECONS with the full 6-bit code for the output...
		rl := clamp(lo.s+(lo.det*qm6[il])>>15, -16384, 16383)
		// ...and the 4-bit truncated code for the predictor, as the encoder did.
		lo.lowerAdapt(il)
		rh := clamp(hi.s+(hi.det*qm2[ih])>>15, -16384, 16383)
		hi.higherAdapt(ih)

		// Receive QMF.
		o2, o1 := d.q.push(rl+rh, rl-rh)
		dst[2*j] = int16(sat(o1 >> 11))
		dst[2*j+1] = int16(sat(o2 >> 11))
	}
	n := 2 * len(payload)
	d.nl = copy(d.last[:], dst[:n])
	d.lost = 0
	return n, nil
}

// Conceal repeats the last frame with falling gain; silence after four lost frames.
func (d *Decoder) Conceal(dst []int16) int {
	d.lost++
	for i := range dst {
		if d.nl == 0 || d.lost > 4 {
			dst[i] = 0
			continue
		}
		dst[i] = int16(int(d.last[i%d.nl]) * (5 - d.lost) / 6)
	}
	return len(dst)
}

// quantL finds the lower-band magnitude index: the first i in 1..29 with mag < q6[i]*det>>12,
// or 30. The levels grow monotonically, so counting the levels <= mag with a branch-free binary
// search gives the recommendation's linear-scan answer without data-dependent branches.
func quantL(mag, det int) int {
	base := 0
	for step := 16; step > 0; step >>= 1 {
		k := base + step
		thr := (q6s[k&31] * det) >> 12
		base += step & ((thr - mag - 1) >> 63) // add step when thr <= mag
	}
	return base + 1
}

// q6s is q6 with the unused top entries set beyond any magnitude, for quantL.
var q6s = func() [32]int {
	t := q6
	t[30], t[31] = 1<<40, 1<<40
	return t
}()

// qmfLine is the 24-sample QMF delay line kept twice in a row, so the current window is always
// contiguous without shifting 22 values per sample pair.
type qmfLine struct {
	buf [48]int
	pos int // index of the oldest sample of the window
}

// push appends two samples and returns the two polyphase sums: sum x[2i]*qmf[i] and
// sum x[2i+1]*qmf[11-i] over the window (oldest first), as in the recommendation.
func (q *qmfLine) push(a, b int) (evenTaps, oddTaps int) {
	p := q.pos
	q.buf[p], q.buf[p+24] = a, a
	q.buf[p+1], q.buf[p+25] = b, b
	p += 2
	if p == 24 {
		p = 0
	}
	q.pos = p
	x := q.buf[p : p+24 : p+24]
	evenTaps = x[0]*qmf[0] + x[2]*qmf[1] + x[4]*qmf[2] + x[6]*qmf[3] + x[8]*qmf[4] + x[10]*qmf[5] +
		x[12]*qmf[6] + x[14]*qmf[7] + x[16]*qmf[8] + x[18]*qmf[9] + x[20]*qmf[10] + x[22]*qmf[11]
	oddTaps = x[1]*qmf[11] + x[3]*qmf[10] + x[5]*qmf[9] + x[7]*qmf[8] + x[9]*qmf[7] + x[11]*qmf[6] +
		x[13]*qmf[5] + x[15]*qmf[4] + x[17]*qmf[3] + x[19]*qmf[2] + x[21]*qmf[1] + x[23]*qmf[0]
	return evenTaps, oddTaps
}
