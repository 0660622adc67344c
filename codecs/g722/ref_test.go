package g722

import "testing"

// Reference copy of the straightforward implementation (as of the golden hash), used to
// check that the optimised coder is bit-exact on many more signals than the golden one.

type refBand struct {
	s   int    // predicted signal (PREDIC)
	sp  int    // pole section output (FILTEP)
	sz  int    // zero section output (FILTEZ)
	r   [3]int // reconstructed signal, delayed
	a   [3]int // pole coefficients
	p   [3]int // partially reconstructed signal
	d   [7]int // quantized difference, delayed
	b   [7]int // zero coefficients
	nb  int    // log scale factor
	det int    // scale factor
}

// sat limits to 16 bits; min/max compile to conditional moves, no branches.
func refSat(v int) int {
	return min(max(v, -32768), 32767)
}

func refClamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// scale converts the log scale factor to the linear one (SCALEL with shift 8, SCALEH with 10).
func (b *refBand) scale(shift int) {
	i := (b.nb >> 6) & 31
	e := shift - (b.nb >> 11)
	var v int
	if e < 0 {
		v = ilb[i] << -e
	} else {
		v = ilb[i] >> e
	}
	b.det = v << 2
}

// adapt runs block 4 with the quantized difference d: reconstruct, update the two pole and six
// zero coefficients (sign-sign LMS, UPPOL1/UPPOL2/UPZERO), shift the delay lines and predict the
// next sample. Sign comparisons are done branch-free ((x^y)>>63 is -1 when signs differ): they
// depend on the audio and would otherwise mispredict about half the time.
func (b *refBand) adapt(d int) {
	r0 := refSat(b.s + d)  // RECONS
	p0 := refSat(b.sz + d) // PARREC
	p1, p2 := b.p[1], b.p[2]
	a1, a2 := b.a[1], b.a[2]

	// UPPOL2
	same01 := (p0 ^ p1) >> 63 // 0 when the signs agree, -1 when not
	w1 := refSat(a1 << 2)
	w2 := min((-w1^same01)-same01, 32767) // -w1 when signs agree, else w1
	same02 := (p0 ^ p2) >> 63
	w3 := (128 ^ same02) - same02 // +128 / -128
	ap2 := refClamp(w3+w2>>7+(a2*32512)>>15, -12288, 12288)

	// UPPOL1
	w1 = (192 ^ same01) - same01
	ap1 := refSat(w1 + (a1*32640)>>15)
	lim := refSat(15360 - ap2)
	ap1 = refClamp(ap1, -lim, lim)

	// UPZERO with DELAYZ and FILTEZ folded in.
	step := 128
	if d == 0 {
		step = 0
	}
	bb := &b.b
	dd := &b.d
	b1 := refUpz(step, d, dd[1], bb[1])
	b2 := refUpz(step, d, dd[2], bb[2])
	b3 := refUpz(step, d, dd[3], bb[3])
	b4 := refUpz(step, d, dd[4], bb[4])
	b5 := refUpz(step, d, dd[5], bb[5])
	b6 := refUpz(step, d, dd[6], bb[6])
	bb[1], bb[2], bb[3], bb[4], bb[5], bb[6] = b1, b2, b3, b4, b5, b6
	dd[6], dd[5], dd[4], dd[3], dd[2], dd[1], dd[0] = dd[5], dd[4], dd[3], dd[2], dd[1], d, d
	sz := (b1*refSat(dd[1]+dd[1]))>>15 + (b2*refSat(dd[2]+dd[2]))>>15 + (b3*refSat(dd[3]+dd[3]))>>15 +
		(b4*refSat(dd[4]+dd[4]))>>15 + (b5*refSat(dd[5]+dd[5]))>>15 + (b6*refSat(dd[6]+dd[6]))>>15

	// DELAYA
	b.r[2], b.r[1], b.r[0] = b.r[1], r0, r0
	b.p[2], b.p[1], b.p[0] = p1, p0, p0
	b.a[2], b.a[1] = ap2, ap1

	// FILTEP, PREDIC
	b.sp = refSat((ap1*refSat(b.r[1]+b.r[1]))>>15 + (ap2*refSat(b.r[2]+b.r[2]))>>15)
	b.sz = refSat(sz)
	b.s = refSat(b.sp + b.sz)
}

// upz is one UPZERO coefficient update: leak the old coefficient and step it towards
// agreement between the signs of the new and the delayed difference.
func refUpz(step, d, di, bi int) int {
	m := (d ^ di) >> 63
	return refSat((step ^ m) - m + (bi*32640)>>15)
}

// lowerAdapt is INVQAL + LOGSCL + SCALEL + block 4 for the lower refBand, given the 6-bit code.
func (b *refBand) lowerAdapt(code int) {
	ril := code >> 2
	dl := (b.det * qm4[ril]) >> 15
	b.nb = refClamp((b.nb*127)>>7+wl[rl42[ril]], 0, 18432)
	b.scale(8)
	b.adapt(dl)
}

// higherAdapt is INVQAH + LOGSCH + SCALEH + block 4 for the higher refBand; it returns the
// quantized difference.
func (b *refBand) higherAdapt(code int) int {
	dh := (b.det * qm2[code]) >> 15
	b.nb = refClamp((b.nb*127)>>7+wh[rh2[code]], 0, 22528)
	b.scale(10)
	b.adapt(dh)
	return dh
}

// refEncoder is one direction's encoder state.
type refEncoder struct {
	q       refQmfLine
	refBand [2]refBand
}

// newRefEncoder returns an encoder in the reset state (§3.6: DETL=32, DETH=8).
func newRefEncoder() *refEncoder {
	e := &refEncoder{}
	e.refBand[0].det, e.refBand[1].det = 32, 8
	return e
}

// Encode codes 16 kHz PCM (an even number of samples) into one byte per sample pair.
func (e *refEncoder) Encode(dst []byte, pcm []int16) (int, error) {
	n := len(pcm) / 2
	if len(dst) < n {
		return 0, ErrShortBuffer
	}
	lo, hi := &e.refBand[0], &e.refBand[1]
	for j := range n {
		// Transmit QMF: shift in two samples, keep one output per sub-refBand.
		odd, even := e.q.push(int(pcm[2*j]), int(pcm[2*j+1]))
		xl := (even + odd) >> 14
		xh := (even - odd) >> 14

		// Lower refBand: SUBTRA, QUANTL (6 bits).
		el := refSat(xl - lo.s)
		mag := el
		if el < 0 {
			mag = -(el + 1)
		}
		i := refQuantL(mag, lo.det)
		il := ilp[i]
		if el < 0 {
			il = iln[i]
		}
		lo.lowerAdapt(il)

		// Higher refBand: SUBTRA, QUANTH (2 bits).
		eh := refSat(xh - hi.s)
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

// refDecoder is one direction's decoder state.
type refDecoder struct {
	q       refQmfLine
	refBand [2]refBand
}

// newRefDecoder returns a decoder in the reset state.
func newRefDecoder() *refDecoder {
	d := &refDecoder{}
	d.refBand[0].det, d.refBand[1].det = 32, 8
	return d
}

// Decode turns each byte into two 16 kHz samples.
func (d *refDecoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < 2*len(payload) {
		return 0, ErrShortBuffer
	}
	lo, hi := &d.refBand[0], &d.refBand[1]
	for j, c := range payload {
		il, ih := int(c&0x3f), int(c>>6)
		// INVQBL + RECONS with the full 6-bit code for the output...
		rl := refClamp(lo.s+(lo.det*qm6[il])>>15, -16384, 16383)
		// ...and the 4-bit truncated code for the predictor, as the encoder did.
		lo.lowerAdapt(il)
		rh := refClamp(hi.s+(hi.det*qm2[ih])>>15, -16384, 16383)
		hi.higherAdapt(ih)

		// Receive QMF.
		o2, o1 := d.q.push(rl+rh, rl-rh)
		dst[2*j] = int16(refSat(o1 >> 11))
		dst[2*j+1] = int16(refSat(o2 >> 11))
	}
	n := 2 * len(payload)
	return n, nil
}

// quantL finds the lower-refBand magnitude index: the first i in 1..29 with mag < q6[i]*det>>12,
// or 30. The levels grow monotonically, so counting the levels <= mag with a branch-free binary
// search gives the recommendation's linear-scan answer without data-dependent branches.
func refQuantL(mag, det int) int {
	base := 0
	for step := 16; step > 0; step >>= 1 {
		k := base + step
		thr := (refQ6s[k&31] * det) >> 12
		base += step & ((thr - mag - 1) >> 63) // add step when thr <= mag
	}
	return base + 1
}

// refQ6s is q6 with the unused top entries set beyond any magnitude, for quantL.
var refQ6s = func() [32]int {
	t := q6
	t[30], t[31] = 1<<40, 1<<40
	return t
}()

// refQmfLine is the 24-sample QMF delay line kept twice in a row, so the current window is always
// contiguous without shifting 22 values per sample pair.
type refQmfLine struct {
	buf [48]int
	pos int // index of the oldest sample of the window
}

// push appends two samples and returns the two polyphase sums: sum x[2i]*qmf[i] and
// sum x[2i+1]*qmf[11-i] over the window (oldest first), as in the recommendation.
func (q *refQmfLine) push(a, b int) (evenTaps, oddTaps int) {
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

// TestMatchesReference runs the optimised and the reference coder side by side on signals that
// reach the saturation and clamping paths (full-scale noise, square waves, steps) as well as
// ordinary ones, frame by frame, and requires identical bitstreams and decoded samples.
func TestMatchesReference(t *testing.T) {
	seed := uint32(7)
	rnd := func() int16 {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int16(seed >> 16)
	}
	const n = 16000 * 4
	sigs := map[string][]int16{"speech": speechLike(n), "sine": sine(n, 1004, 30000)}
	noise, square, mixed := make([]int16, n), make([]int16, n), make([]int16, n)
	for i := range n {
		noise[i] = rnd()
		if (i/37)%2 == 0 {
			square[i] = 32767
		} else {
			square[i] = -32768
		}
		mixed[i] = int16(int(rnd())>>((i/2000)%12)) + int16((i/4000)%3-1)*12000
	}
	sigs["noise"], sigs["square"], sigs["mixed"] = noise, square, mixed
	for name, pcm := range sigs {
		enc, dec := NewEncoder(), NewDecoder()
		renc, rdec := newRefEncoder(), newRefDecoder()
		pay, rpay := make([]byte, 160), make([]byte, 160)
		out, rout := make([]int16, 320), make([]int16, 320)
		for off := 0; off+320 <= len(pcm); off += 320 {
			enc.Encode(pay, pcm[off:off+320])
			renc.Encode(rpay, pcm[off:off+320])
			if string(pay) != string(rpay) {
				t.Fatalf("%s: encoder differs at frame %d", name, off/320)
			}
			// Decode a corrupted copy too, so the decoder sees codes the encoder would not pick.
			if (off/320)%3 == 2 {
				for i := range pay {
					pay[i] ^= byte(rnd())
				}
			}
			dec.Decode(out, pay)
			rdec.Decode(rout, pay)
			for i := range out {
				if out[i] != rout[i] {
					t.Fatalf("%s: decoder differs at frame %d sample %d: %d != %d", name, off/320, i, out[i], rout[i])
				}
			}
		}
	}
}
