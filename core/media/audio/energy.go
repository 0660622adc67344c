package audio

// Energy is FreeSWITCH's frame score (switch_ivr.c, conference energy gate): the average absolute
// sample value. It is the one energy measure in production code: the conference's talk gate,
// record's silence detection and wait_for_silence all use it, so their thresholds agree with
// FreeSWITCH's energy-level and silence-threshold settings.
func Energy(pcm []int16) int {
	if len(pcm) == 0 {
		return 0
	}
	var sum int64
	for _, v := range pcm {
		if v < 0 {
			sum -= int64(v)
		} else {
			sum += int64(v)
		}
	}
	return int(sum / int64(len(pcm)))
}

// Clip16 saturates a mixed or scaled sample to the int16 range.
func Clip16(v int32) int16 { return int16(max(-32768, min(32767, v))) }
