package g722

// band is the adaptive predictor and scale factor state of one sub-band (ITU-T G.722 block 4
// and the LOGSC/SCALE blocks). Encoder and decoder run identical copies, which is what keeps
// them in step without side information.
//
// The predictor only ever uses the delayed reconstructed signal and quantized differences
// doubled and saturated (sat(x+x)), and the partially reconstructed signal only for its sign, so
// the delay lines hold exactly those values: the doubling is done once per sample, not once per
// tap, and sat(x+x) keeps the sign of x for the sign-sign updates.
type band struct {
	s      int    // predicted signal (PREDIC)
	sz     int    // zero section output (FILTEZ)
	r1, r2 int    // reconstructed signal delayed by 1 and 2, as sat(r+r)
	p1, p2 int    // partially reconstructed signal delayed by 1 and 2 (only the sign matters)
	a1, a2 int    // pole coefficients; |a1| <= 27648 and |a2| <= 12288 by construction
	d      [6]int // quantized difference delayed by 1..6, as sat(d+d)
	b      [6]int // zero coefficients, always within 16 bits (see adapt)
	nb     int    // log scale factor
	det    int    // scale factor
}

// sat limits to 16 bits; min/max compile to conditional moves, no branches.
func sat(v int) int {
	return min(max(v, -32768), 32767)
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// scale converts the log scale factor to the linear one (SCALEL with shift 8, SCALEH with 10).
// nb never exceeds (shift+1)<<11, so the exponent shift-(nb>>11) is at least -1 and the
// recommendation's two-way shift becomes one right shift of the doubled table value.
func (b *band) scale(shift int) {
	i := (b.nb >> 6) & 31
	e := uint(shift+1-(b.nb>>11)) & 63
	b.det = (ilb2[i] >> e) << 2
}

// adapt runs block 4 with the quantized difference d: reconstruct, update the two pole and six
// zero coefficients (sign-sign LMS, UPPOL1/UPPOL2/UPZERO), shift the delay lines and predict the
// next sample. Sign comparisons are done branch-free ((x^y)>>63 is -1 when signs differ): they
// depend on the audio and would otherwise mispredict about half the time.
//
// Saturations the recommendation specifies but that cannot trigger are left out: a zero
// coefficient is at most 32767*32640>>15 + 128 = 32767 in magnitude (and at least -32768), and
// UPPOL1's result is bounded by the pole limit, 15360-|a2| <= 27648.
func (b *band) adapt(d int) {
	r0 := sat(b.s + d)  // RECONS
	p0 := sat(b.sz + d) // PARREC
	a1, a2 := b.a1, b.a2

	// UPPOL2
	same01 := (p0 ^ b.p1) >> 63 // 0 when the signs agree, -1 when not
	w1 := sat(a1 << 2)
	w2 := min((-w1^same01)-same01, 32767) // -w1 when signs agree, else w1
	same02 := (p0 ^ b.p2) >> 63
	w3 := (128 ^ same02) - same02 // +128 / -128
	ap2 := clamp(w3+w2>>7+(a2*32512)>>15, -12288, 12288)

	// UPPOL1 (|a1| <= 27648, so the sum stays within 16 bits)
	w1 = (192 ^ same01) - same01
	lim := 15360 - ap2
	ap1 := clamp(w1+(a1*32640)>>15, -lim, lim)

	// UPZERO with DELAYZ and FILTEZ folded in.
	step := 128
	if d == 0 {
		step = 0
	}
	// Tap by tap, so few values are live at once: update coefficient i from the old delayed
	// difference, shift the delay line by one and accumulate FILTEZ with the new values.
	bb, dd := &b.b, &b.d
	prev := sat(d + d)
	sz, prev := zeroTap(&bb[0], &dd[0], d, step, prev, 0)
	sz, prev = zeroTap(&bb[1], &dd[1], d, step, prev, sz)
	sz, prev = zeroTap(&bb[2], &dd[2], d, step, prev, sz)
	sz, prev = zeroTap(&bb[3], &dd[3], d, step, prev, sz)
	sz, prev = zeroTap(&bb[4], &dd[4], d, step, prev, sz)
	sz, _ = zeroTap(&bb[5], &dd[5], d, step, prev, sz)

	// DELAYA, FILTEP, PREDIC
	r1 := sat(r0 + r0)
	r2 := b.r1
	b.r1, b.r2 = r1, r2
	b.p1, b.p2 = p0, b.p1
	b.a1, b.a2 = ap1, ap2
	sp := sat((ap1*r1)>>15 + (ap2*r2)>>15)
	b.sz = sat(sz)
	b.s = sat(sp + b.sz)
}

// zeroTap is UPZERO, DELAYZ and one FILTEZ term for one tap: bi steps towards agreement between
// the signs of d and the old delayed difference *di, which is replaced by in (the next younger
// one, doubled); it returns the accumulated sum and the old *di for the next tap.
func zeroTap(bi, di *int, d, step, in, acc int) (int, int) {
	old := *di
	m := (d ^ old) >> 63
	nb := (step ^ m) - m + (*bi*32640)>>15
	*bi, *di = nb, in
	return acc + (nb*in)>>15, old
}

// lowerStep is INVQAL + LOGSCL + SCALEL for the lower band, given the 6-bit code: it updates the
// scale factor and returns the quantized difference for adapt. It is small enough to be inlined,
// so each band costs one call per sample.
func (b *band) lowerStep(code int) int {
	ril := (code >> 2) & 15
	dl := (b.det * qm4[ril]) >> 15
	b.nb = min(max((b.nb*127)>>7+wl4[ril], 0), 18432)
	b.scale(8)
	return dl
}

// higherStep is INVQAH + LOGSCH + SCALEH for the higher band, like lowerStep.
func (b *band) higherStep(code int) int {
	code &= 3
	dh := (b.det * qm2[code]) >> 15
	b.nb = min(max((b.nb*127)>>7+wh2[code], 0), 22528)
	b.scale(10)
	return dh
}
