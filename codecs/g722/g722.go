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

// chunk is how many sample pairs Encode and Decode process per pass. Each pass runs the QMF,
// the lower band and the higher band as three separate loops over the chunk: the loops are
// small enough to keep their state in registers and make one call per sample, where one loop
// doing everything spills and reloads around every call.
const chunk = 160

// Encoder is one direction's encoder state.
type Encoder struct {
	q    qmf24
	band [2]band
	x    [2][chunk]int // the chunk's lower and higher sub-band signals
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
	for off := 0; off < n; off += chunk {
		m := min(chunk, n-off)
		e.encodeChunk(dst[off:off+m], pcm[2*off:2*(off+m)])
	}
	return n, nil
}

func (e *Encoder) encodeChunk(dst []byte, pcm []int16) {
	// Transmit QMF: two samples in, one sample out per sub-band.
	xl, xh := e.x[0][:len(dst)], e.x[1][:len(dst)]
	w := e.q.load(pcm)
	for j := range xl {
		x := w[2*j : 2*j+24 : 2*j+24]
		even, odd := qmfEven(x), qmfOdd(x)
		xl[j] = (even + odd) >> 14
		xh[j] = (odd - even) >> 14
	}
	e.q.keep(len(pcm))

	// Both bands in one loop: their recursions are independent, so the processor overlaps them.
	lo, hi := &e.band[0], &e.band[1]
	dst = dst[:len(xl)]
	xh = xh[:len(xl)]
	for j, x := range xl {
		// Lower band: SUBTRA, QUANTL (6 bits). neg is -1 for a negative difference, whose
		// magnitude the recommendation takes as -(el+1) = el^-1.
		el := sat(x - lo.s)
		neg := el >> 63
		il := ilq[(neg&32)|quantL(el^neg, lo.det)]
		dl := lo.lowerStep(il)

		// Higher band: SUBTRA, QUANTH (2 bits).
		eh := sat(xh[j] - hi.s)
		neg = eh >> 63
		ih := 3 // positive, small
		if eh^neg >= (564*hi.det)>>12 {
			ih = 2 // positive, large
		}
		ih &^= neg & 2 // negative: 1 (small) or 0 (large), as ihn
		dh := hi.higherStep(ih)
		lo.adapt(dl)
		hi.adapt(dh)
		dst[j] = byte(ih<<6 | il)
	}
}

// Decoder is one direction's decoder state.
type Decoder struct {
	q    qmf24
	band [2]band
	x    [2][chunk]int // the chunk's reconstructed lower and higher sub-band signals
	last [640]int16    // last decoded frame, for concealment
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
	for off := 0; off < len(payload); off += chunk {
		m := min(chunk, len(payload)-off)
		d.decodeChunk(dst[2*off:2*(off+m)], payload[off:off+m])
	}
	n := 2 * len(payload)
	d.nl = copy(d.last[:], dst[:n])
	d.lost = 0
	return n, nil
}

func (d *Decoder) decodeChunk(dst []int16, payload []byte) {
	// Lower band: INVQBL + RECONS with the full 6-bit code for the output, and the 4-bit
	// truncated code for the predictor, as the encoder did. Both bands in one loop, as in
	// encodeChunk.
	lo, hi := &d.band[0], &d.band[1]
	rl := d.x[0][:len(payload)]
	rh := d.x[1][:len(payload)]
	for j, c := range payload {
		il, ih := int(c&0x3f), int(c>>6)
		rl[j] = clamp(lo.s+(lo.det*qm6[il])>>15, -16384, 16383)
		rh[j] = clamp(hi.s+(hi.det*qm2[ih&3])>>15, -16384, 16383)
		dl, dh := lo.lowerStep(il), hi.higherStep(ih)
		lo.adapt(dl)
		hi.adapt(dh)
	}

	// Receive QMF.
	w := d.q.window(len(dst))
	rh = rh[:len(rl)]
	for j, l := range rl {
		w[22+2*j], w[23+2*j] = l+rh[j], l-rh[j]
	}
	dst = dst[:2*len(rl)]
	for j := range rl {
		x := w[2*j : 2*j+24 : 2*j+24]
		even, odd := qmfEven(x), qmfOdd(x)
		pair := dst[2*j : 2*j+2 : 2*j+2]
		pair[0], pair[1] = int16(sat(odd>>11)), int16(sat(even>>11))
	}
	d.q.keep(len(dst))
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
// or 30. For non-negative integers q*det>>12 <= mag exactly when q <= ((mag+1)<<12-1)/det, so
// one division and one table look-up replace the search over the 29 decision levels.
func quantL(mag, det int) int {
	t := uint32((mag+1)<<12-1) / uint32(det)
	return int(qlut[min(t, uint32(len(qlut)-1))])
}

// qmf24 is the QMF delay line: the 22 samples before the chunk followed by the chunk's samples,
// so every sample pair's 24-sample window is one contiguous slice.
type qmf24 struct {
	buf [22 + 2*chunk]int
}

// load copies the chunk's PCM in after the history and returns the line.
func (q *qmf24) load(pcm []int16) []int {
	w := q.window(len(pcm))
	in := w[22:]
	for i := range in {
		in[i] = int(pcm[i])
	}
	return w
}

// window returns the history plus room for n samples.
func (q *qmf24) window(n int) []int { return q.buf[:22+n] }

// keep moves the last 22 of the n samples just processed to the front for the next chunk.
func (q *qmf24) keep(n int) { copy(q.buf[:22], q.buf[n:n+22]) }

// qmfEven and qmfOdd return the two polyphase sums over a 24-sample window (oldest first), as
// in the recommendation: sum x[2i]*qmf[i] and sum x[2i+1]*qmf[11-i]. The coefficients (Table 11)
// are constants, so each tap is one multiply by an immediate, and each half is small enough to
// be inlined.
func qmfEven(x []int) int {
	x = x[:23]
	return 3*x[0] - 11*x[2] + 12*x[4] + 32*x[6] - 210*x[8] + 951*x[10] +
		3876*x[12] - 805*x[14] + 362*x[16] - 156*x[18] + 53*x[20] - 11*x[22]
}

func qmfOdd(x []int) int {
	x = x[:24]
	return -11*x[1] + 53*x[3] - 156*x[5] + 362*x[7] - 805*x[9] + 3876*x[11] +
		951*x[13] - 210*x[15] + 32*x[17] + 12*x[19] - 11*x[21] + 3*x[23]
}
