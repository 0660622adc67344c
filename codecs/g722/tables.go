package g722

// Constants of ITU-T G.722 (09/2012) §3 and §4, 64 kbit/s mode (6 bits lower band, 2 bits
// higher band). Names follow the recommendation's block names.

// qmf holds the 24-tap transmit/receive QMF coefficients (Table 11), symmetric, so 12 suffice.
var qmf = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// q6 are the lower-band quantizer decision levels (Table 12) scaled as in the reference: the
// magnitude index i is the largest with |el| >= q6[i]*det>>12.
var q6 = [32]int{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}

// iln and ilp map a magnitude index to the 6-bit code for negative and positive differences.
var iln = [32]int{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15,
	14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
var ilp = [32]int{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
	42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}

// qm6 is the 6-bit inverse quantizer output (INVQBL), qm4 the 4-bit one used for prediction
// (INVQAL), both Q15-scaled multipliers of the scale factor.
var qm6 = [64]int{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
	-9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400,
	-2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232,
	9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688,
	1360, 1040, 728, 432, 136, -432, -136,
}
var qm4 = [16]int{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288,
	4240, 2584, 1200, 0}

// rl42 and wl drive the lower-band log scale factor adaptation (LOGSCL).
var rl42 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
var wl = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}

// ilb is the log-to-linear table of SCALEL/SCALEH: round(2048 * 2^(i/32)).
var ilb = [32]int{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656,
	2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756,
	3838, 3922, 4008}

// Higher band: 2-bit quantizer (QUANTH), inverse quantizer (INVQAH), LOGSCH.
var ihn = [3]int{0, 1, 0}
var ihp = [3]int{0, 3, 2}
var qm2 = [4]int{-7408, -1616, 7408, 1616}
var rh2 = [4]int{2, 1, 2, 1}
var wh = [3]int{0, -214, 798}

// Derived tables for the coder's inner loops (see scale, lowerStep, higherStep, quantL).
var (
	ilb2 [32]int // ilb doubled: scale's exponent is then never negative
	wl4  [16]int // wl[rl42[i]]: LOGSCL's weight by the 4-bit code
	wh2  [4]int  // wh[rh2[i]]: LOGSCH's weight by the 2-bit code
	// qlut[t] is 1 + the number of levels q6[1..29] <= t, for t up to q6[29]: the magnitude
	// index quantL returns once it knows t = the largest level that still fits under |el|.
	qlut [2920]uint8
)

func init() {
	for i, v := range ilb {
		ilb2[i] = v << 1
	}
	for i, r := range rl42 {
		wl4[i] = wl[r]
	}
	for i, r := range rh2 {
		wh2[i] = wh[r]
	}
	for t := range qlut {
		k := 1
		for k < 30 && q6[k] <= t {
			k++
		}
		qlut[t] = uint8(k)
	}
}

// ilq maps sign and magnitude index to the 6-bit lower-band code: ilp in the first half, iln
// (negative differences) in the second.
var ilq = func() (t [64]int) {
	copy(t[:32], ilp[:])
	copy(t[32:], iln[:])
	return t
}()
