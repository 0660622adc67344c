package rtp

import (
	"fmt"
	"sync"
	"time"
)

// JitterStatus says what Pop produced.
type JitterStatus uint8

const (
	JitterOK        JitterStatus = iota // a packet was returned
	JitterLost                          // the expected packet is missing but later ones exist: conceal
	JitterBuffering                     // filling up to the target depth: play silence
	JitterEmpty                         // nothing buffered (DTX, hold, not started)
)

// JitterStats are the buffer's counters.
type JitterStats struct {
	Pushed, Played, Lost, Late, Dup, Dropped, Resets uint64
	Depth                                            int           // packets held now
	Target                                           time.Duration // current adaptive target
	Jitter                                           time.Duration // RFC 3550 interarrival jitter
}

// JitterBuffer is a per-leg playout buffer: a power-of-two ring of preallocated slots keyed by
// sequence number, pulled once per ptime by the clock. The target depth adapts to measured
// interarrival jitter between Min and Max. It resets on an SSRC change or a large sequence jump.
// Methods are goroutine-safe (the socket reader pushes, the clock pops).
type JitterBuffer struct {
	mu      sync.Mutex
	slots   []jslot
	mask    uint16
	rate    int    // RTP clock rate
	spf     uint32 // RTP timestamp units per frame
	ptime   time.Duration
	minF    int
	maxF    int
	target  int
	started bool
	playing bool
	ssrc    uint32
	next    uint16
	count   int
	maxPay  int // bytes per slot, allocated in one slab on the first packet

	epoch       time.Time
	lastTransit float64
	haveTransit bool
	jitter      float64 // in RTP timestamp units

	st JitterStats
}

type jslot struct {
	valid  bool
	marker bool
	seq    uint16
	ts     uint32
	buf    []byte
}

// JitterConfig tunes a buffer; zero values give 20..200 ms with 20 ms frames at 8 kHz.
type JitterConfig struct {
	Rate       int           // RTP clock rate
	Ptime      time.Duration // frame duration
	Min, Max   time.Duration // target depth bounds (20-200 ms)
	MaxPayload int           // preallocated bytes per slot
}

const jitterSlots = 64

// NewJitterBuffer returns a buffer whose slots are allocated once, on the first packet.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Ptime == 0 {
		cfg.Ptime = 20 * time.Millisecond
	}
	if cfg.Min == 0 {
		cfg.Min = 20 * time.Millisecond
	}
	if cfg.Max == 0 {
		cfg.Max = 200 * time.Millisecond
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 400
	}
	j := &JitterBuffer{slots: make([]jslot, jitterSlots), mask: jitterSlots - 1, rate: cfg.Rate, ptime: cfg.Ptime,
		spf: uint32(cfg.Rate * int(cfg.Ptime/time.Microsecond) / 1e6), maxPay: cfg.MaxPayload}
	j.minF = max(1, int((cfg.Min+cfg.Ptime-1)/cfg.Ptime))
	j.maxF = min(jitterSlots/2, max(j.minF, int(cfg.Max/cfg.Ptime)))
	j.target = j.minF
	return j
}

// Push stores one packet's payload (copied) that arrived at time now.
func (j *JitterBuffer) Push(seq uint16, ts, ssrc uint32, marker bool, payload []byte, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.started || ssrc != j.ssrc {
		j.resetLocked(seq, ssrc, now)
	}
	diff := int16(seq - j.next)
	if diff < 0 {
		if j.playing || diff < -jitterSlots/2 {
			j.st.Late++
			if diff < -jitterSlots/2 { // far behind: the sender restarted its sequence
				j.resetLocked(seq, ssrc, now)
			} else {
				return
			}
		} else {
			// Reordered before playout began: start from the earlier packet.
			j.next = seq
		}
	} else if int(diff) >= jitterSlots {
		j.resetLocked(seq, ssrc, now)
	}
	s := &j.slots[seq&j.mask]
	if s.valid {
		if s.seq == seq {
			j.st.Dup++
			return
		}
		j.count-- // overwritten stale slot
	}
	s.valid, s.seq, s.ts, s.marker = true, seq, ts, marker
	s.buf = append(s.buf[:0], payload...)
	j.count++
	j.st.Pushed++
	j.estimate(ts, now)
}

// estimate updates the RFC 3550 §6.4.1 interarrival jitter and the adaptive target.
func (j *JitterBuffer) estimate(ts uint32, now time.Time) {
	arrival := float64(now.Sub(j.epoch)) * float64(j.rate) / float64(time.Second)
	transit := arrival - float64(ts)
	if j.haveTransit {
		d := transit - j.lastTransit
		if d < 0 {
			d = -d
		}
		if d < float64(j.rate) { // ignore timestamp jumps (DTX, source switch)
			j.jitter += (d - j.jitter) / 16
		}
	}
	j.lastTransit, j.haveTransit = transit, true
	// Hold about three times the jitter plus one frame; clamp to the configured bounds.
	t := 1 + int(3*j.jitter/float64(j.spf))
	j.target = min(j.maxF, max(j.minF, t))
}

func (j *JitterBuffer) resetLocked(seq uint16, ssrc uint32, now time.Time) {
	if j.started {
		j.st.Resets++
	} else if j.slots[0].buf == nil {
		// The slots' payload memory (25 KB) is taken when media first arrives, not per leg: a
		// relayed leg, or a call that never sends RTP, never needs it.
		slab := make([]byte, jitterSlots*j.maxPay)
		for i := range j.slots {
			j.slots[i].buf = slab[i*j.maxPay : i*j.maxPay : (i+1)*j.maxPay]
		}
	}
	for i := range j.slots {
		j.slots[i].valid = false
	}
	j.count = 0
	j.started, j.playing = true, false
	j.ssrc, j.next = ssrc, seq
	j.epoch = now
	j.haveTransit = false
}

// Pop returns the next frame's payload copied into dst. It is called once per ptime.
func (j *JitterBuffer) Pop(dst []byte) ([]byte, JitterStatus) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.started || j.count == 0 {
		if j.playing {
			// Underrun with nothing queued: the sender paused (DTX/hold). Rebuffer.
			j.playing = false
		}
		return dst[:0], JitterEmpty
	}
	if !j.playing {
		if j.count < j.target {
			return dst[:0], JitterBuffering
		}
		j.playing = true
	}
	// Latency grew far beyond the target (a burst after a stall): drop the oldest frame to
	// catch up, one per tick so the listener hears a skip, not a jump.
	if j.count > 2*j.target+3 {
		if s := &j.slots[j.next&j.mask]; s.valid && s.seq == j.next {
			s.valid = false
			j.count--
			j.st.Dropped++
		}
		j.next++
	}
	s := &j.slots[j.next&j.mask]
	j.next++
	if !s.valid || s.seq != j.next-1 {
		j.st.Lost++
		return dst[:0], JitterLost
	}
	s.valid = false
	j.count--
	j.st.Played++
	return append(dst[:0], s.buf...), JitterOK
}

// Reset empties the buffer (hold, codec change).
func (j *JitterBuffer) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.slots {
		j.slots[i].valid = false
	}
	j.count, j.started, j.playing = 0, false, false
}

// Stats returns a snapshot of the counters.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.st
	st.Depth = j.count
	st.Target = time.Duration(j.target) * j.ptime
	st.Jitter = time.Duration(j.jitter / float64(j.rate) * float64(time.Second))
	return st
}

// String describes the stage ("jitter(40ms)").
func (j *JitterBuffer) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return fmt.Sprintf("jitter(%s)", time.Duration(j.target)*j.ptime)
}
