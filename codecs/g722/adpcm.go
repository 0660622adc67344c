package g722

// band is the adaptive predictor and scale factor state of one sub-band (ITU-T G.722 block 4
// and the LOGSC/SCALE blocks). Encoder and decoder run identical copies, which is what keeps
// them in step without side information.
type band struct {
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
func sat(v int) int {
	return min(max(v, -32768), 32767)
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// scale converts the log scale factor to the linear one (SCALEL with shift 8, SCALEH with 10).
func (b *band) scale(shift int) {
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
func (b *band) adapt(d int) {
	r0 := sat(b.s + d)  // RECONS
	p0 := sat(b.sz + d) // PARREC
	p1, p2 := b.p[1], b.p[2]
	a1, a2 := b.a[1], b.a[2]

	// UPPOL2
	same01 := (p0 ^ p1) >> 63 // 0 when the signs agree, -1 when not
	w1 := sat(a1 << 2)
	w2 := min((-w1^same01)-same01, 32767) // -w1 when signs agree, else w1
	same02 := (p0 ^ p2) >> 63
	w3 := (128 ^ same02) - same02 // +128 / -128
	ap2 := clamp(w3+w2>>7+(a2*32512)>>15, -12288, 12288)

	// UPPOL1
	w1 = (192 ^ same01) - same01
	ap1 := sat(w1 + (a1*32640)>>15)
	lim := sat(15360 - ap2)
	ap1 = clamp(ap1, -lim, lim)

	// UPZERO with DELAYZ and FILTEZ folded in.
	step := 128
	if d == 0 {
		step = 0
	}
	bb := &b.b
	dd := &b.d
	b1 := upz(step, d, dd[1], bb[1])
	b2 := upz(step, d, dd[2], bb[2])
	b3 := upz(step, d, dd[3], bb[3])
	b4 := upz(step, d, dd[4], bb[4])
	b5 := upz(step, d, dd[5], bb[5])
	b6 := upz(step, d, dd[6], bb[6])
	bb[1], bb[2], bb[3], bb[4], bb[5], bb[6] = b1, b2, b3, b4, b5, b6
	dd[6], dd[5], dd[4], dd[3], dd[2], dd[1], dd[0] = dd[5], dd[4], dd[3], dd[2], dd[1], d, d
	sz := (b1*sat(dd[1]+dd[1]))>>15 + (b2*sat(dd[2]+dd[2]))>>15 + (b3*sat(dd[3]+dd[3]))>>15 +
		(b4*sat(dd[4]+dd[4]))>>15 + (b5*sat(dd[5]+dd[5]))>>15 + (b6*sat(dd[6]+dd[6]))>>15

	// DELAYA
	b.r[2], b.r[1], b.r[0] = b.r[1], r0, r0
	b.p[2], b.p[1], b.p[0] = p1, p0, p0
	b.a[2], b.a[1] = ap2, ap1

	// FILTEP, PREDIC
	b.sp = sat((ap1*sat(b.r[1]+b.r[1]))>>15 + (ap2*sat(b.r[2]+b.r[2]))>>15)
	b.sz = sat(sz)
	b.s = sat(b.sp + b.sz)
}

// upz is one UPZERO coefficient update: leak the old coefficient and step it towards
// agreement between the signs of the new and the delayed difference.
func upz(step, d, di, bi int) int {
	m := (d ^ di) >> 63
	return sat((step ^ m) - m + (bi*32640)>>15)
}

// lowerAdapt is INVQAL + LOGSCL + SCALEL + block 4 for the lower band, given the 6-bit code.
func (b *band) lowerAdapt(code int) {
	ril := code >> 2
	dl := (b.det * qm4[ril]) >> 15
	b.nb = clamp((b.nb*127)>>7+wl[rl42[ril]], 0, 18432)
	b.scale(8)
	b.adapt(dl)
}

// higherAdapt is INVQAH + LOGSCH + SCALEH + block 4 for the higher band; it returns the
// quantized difference.
func (b *band) higherAdapt(code int) int {
	dh := (b.det * qm2[code]) >> 15
	b.nb = clamp((b.nb*127)>>7+wh[rh2[code]], 0, 22528)
	b.scale(10)
	b.adapt(dh)
	return dh
}
