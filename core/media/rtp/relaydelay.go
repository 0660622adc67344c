package rtp

import (
	"sync/atomic"
	"time"
)

// The relay delay is how long a relayed packet spent inside goswitch: from the kernel's arrival
// stamp on the receiving socket to the return of the send on the other leg's socket. It is
// goswitch's own share of the jitter a bridged call sees, measurable even when the far ends'
// clocks are poor; /metrics exports it as goswitch_rtp_relay_delay_seconds.
//
// Counting is one atomic add per relayed packet. The counters are striped (a port keeps one
// stripe) so the poll shards, which relay on different cores, do not share cache lines.

// RelayDelayBounds are the histogram's upper bucket bounds (a last bucket takes the rest).
var RelayDelayBounds = [...]time.Duration{
	25 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond,
	500 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 2 * time.Millisecond,
	3 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond,
}

const delayStripes = 8

type delayStripe struct {
	n     [len(RelayDelayBounds) + 1]atomic.Uint64
	sumNs atomic.Uint64
	_     [64 - 8]byte // the next stripe starts on its own cache line
}

var relayDelay [delayStripes]delayStripe

var nextStripe atomic.Uint32

func observeRelayDelay(stripe uint8, d time.Duration) {
	s := &relayDelay[stripe%delayStripes]
	i := 0
	for i < len(RelayDelayBounds) && d > RelayDelayBounds[i] {
		i++
	}
	s.n[i].Add(1)
	if d > 0 {
		s.sumNs.Add(uint64(d))
	}
}

// RelayDelays returns the relay-delay histogram since start: per-bucket counts (not cumulative;
// the last is above every bound) and the sum of all delays.
func RelayDelays() (counts [len(RelayDelayBounds) + 1]uint64, sum time.Duration) {
	for i := range relayDelay {
		s := &relayDelay[i]
		for b := range s.n {
			counts[b] += s.n[b].Load()
		}
		sum += time.Duration(s.sumNs.Load())
	}
	return counts, sum
}
