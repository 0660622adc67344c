package core

import "time"

// ObserveLagForTest stops the host's own scheduling-lag sampler and feeds it samples instead.
func ObserveLagForTest(h *Host, samples ...time.Duration) {
	h.adm.stopLagMonitor()
	for _, d := range samples {
		h.adm.observe(d)
	}
}
