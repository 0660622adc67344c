package core

import "time"

// ObserveLagForTest stops the host's own scheduling-lag sampler and feeds it samples instead.
func ObserveLagForTest(h *Host, samples ...time.Duration) {
	h.adm.stopLagMonitor()
	for _, d := range samples {
		h.adm.observe(d)
	}
}

// ReclaimTicksForTest feeds session counts one reclaimEvery apart and counts the reclaims.
func ReclaimTicksForTest(counts []int) int {
	var r reclaimer
	now := time.Now()
	n := 0
	for _, c := range counts {
		before := r.next
		r.tick(now, c)
		if r.next != before {
			n++
		}
		now = now.Add(reclaimEvery)
	}
	return n
}

// StartInboundForTest takes what admit takes for an inbound session once CheckAdmission passed:
// the overload throttle's token.
func StartInboundForTest(h *Host) bool {
	return !h.adm.overloaded.Load() || h.adm.throttle.take(time.Now())
}
