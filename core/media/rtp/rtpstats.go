package rtp

import (
	"sync"
	"sync/atomic"
	"time"
)

// RFC 3550 appendix A.1 constants.
const (
	rtpMaxDropout  = 3000
	rtpMaxMisorder = 100
	rtpMinSeq      = 2 // packets in sequence before a new source is valid
	rtpSeqMod      = 1 << 16
)

// RTPStats are the RFC 3550 receiver statistics of one incoming RTP source: sequence validation
// (appendix A.1), loss (A.3) and interarrival jitter (A.8). One goroutine at a time calls Update
// (the receive path); Report and Snapshot may run concurrently with it from any goroutine.
// The zero value is ready to use.
//
// Update publishes its counters through a triple buffer: it fills a buffer no reader holds and
// swaps it in with one atomic exchange, so a packet costs no lock and readers never block it.
// The report-interval state (A.3's expected_prior/received_prior) lives on the reader side.
type RTPStats struct {
	w    rtpState // Update only
	back uint8    // buffer Update fills next

	pub atomic.Uint32 // published buffer index ^ 1, | rtpFresh when readers have not taken it
	buf [3]rtpSnap

	rmu      sync.Mutex // readers
	frontX   uint8      // buffer the readers hold, ^ 2 (the XORs make the zero value 0, 1, 2)
	gen      uint32     // snapshot generation the priors belong to
	expPrior uint32
	recPrior uint32
	fraction uint8 // fraction lost in the last Report's interval
}

const rtpFresh = 4

// rtpSnap is what Update publishes. gen changes whenever A.1's init_seq runs (new source,
// restart), which resets the report-interval state.
type rtpSnap struct {
	valid                                    bool
	ssrc, gen, base, ext, received, jitter16 uint32
}

// rtpState is the receive path's A.1/A.8 state.
type rtpState struct {
	active    bool // a source is known (ssrc is meaningful)
	ssrc      uint32
	gen       uint32
	maxSeq    uint16 // highest sequence number seen
	cycles    uint32 // wraps of the sequence number, shifted left by 16
	baseSeq   uint32
	badSeq    uint32 // last "bad" sequence number + 1, RTP_SEQ_MOD+1 when none
	probation int
	received  uint32 // packets accepted, duplicates included (so lost may go negative)

	rate     uint32    // RTP clock the jitter is measured in
	base     time.Time // arrival time origin, so arrivals convert to RTP units without overflow
	transit  uint32    // arrival - timestamp of the previous packet, in RTP units
	haveTr   bool
	jitter16 uint32 // interarrival jitter * 16 (A.8's integer form)
}

// RTPReception is a snapshot of RTPStats, in the units of an RTCP report block.
type RTPReception struct {
	SSRC         uint32
	FractionLost uint8  // lost/expected in the last report interval, in 1/256
	TotalLost    int32  // cumulative, clamped to 24-bit signed; negative with duplicates
	ExtHighest   uint32 // extended highest sequence number received (cycles << 16 | seq)
	Jitter       uint32 // interarrival jitter in RTP timestamp units
	Received     uint32 // packets counted since the source became valid
	Expected     uint32
}

// Update accounts one received packet of source ssrc that arrived at arrival. clockRate is the
// payload's RTP clock; 0 keeps the packet out of the jitter estimate (RFC 4733 events repeat
// one timestamp for many packets, which A.8 would read as jitter). It reports whether the
// packet is valid per A.1 (false while a new source is on probation or after a large jump).
func (s *RTPStats) Update(ssrc uint32, seq uint16, ts uint32, arrival time.Time, clockRate uint32) bool {
	w := &s.w
	if !w.active || ssrc != w.ssrc {
		// A new source (or the remote restarted with a new SSRC): start over, on probation.
		*w = rtpState{active: true, ssrc: ssrc, probation: rtpMinSeq, gen: w.gen}
		w.initSeq(seq)
		w.maxSeq = seq - 1
	}
	ok := w.update(seq, ts, arrival, clockRate)
	b := &s.buf[s.back]
	*b = rtpSnap{valid: w.probation == 0, ssrc: w.ssrc, gen: w.gen, base: w.baseSeq,
		ext: w.cycles + uint32(w.maxSeq), received: w.received, jitter16: w.jitter16}
	s.back = uint8(s.pub.Swap(uint32(s.back^1)|rtpFresh)&3) ^ 1
	return ok
}

func (s *rtpState) update(seq uint16, ts uint32, arrival time.Time, clockRate uint32) bool {
	if !s.updateSeq(seq) {
		return false
	}
	if clockRate == 0 {
		return true
	}
	if clockRate != s.rate {
		// A codec change moves the clock: transits in the old clock are meaningless.
		s.rate, s.base, s.haveTr = clockRate, arrival, false
	}
	d := max(arrival.Sub(s.base), 0) // a clock going backwards must not wrap the conversion
	// floor(d * rate) modulo 2^32 without overflowing int64: whole seconds and the remainder.
	sec, ns := uint64(d/time.Second), uint64(d%time.Second)
	now := uint32(sec*uint64(clockRate) + ns*uint64(clockRate)/uint64(time.Second))
	transit := now - ts
	if s.haveTr {
		dt := int32(transit - s.transit)
		if dt < 0 {
			dt = -dt
		}
		s.jitter16 += uint32(dt) - (s.jitter16+8)>>4
	}
	s.transit, s.haveTr = transit, true
	return true
}

func (s *rtpState) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = rtpSeqMod + 1
	s.cycles = 0
	s.received = 0
	s.gen++
}

// updateSeq is A.1's update_seq.
func (s *rtpState) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	switch {
	case s.probation > 0:
		// Source not valid until rtpMinSeq packets in sequence have arrived.
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.initSeq(seq)
				s.received++
				return true
			}
		} else {
			s.probation = rtpMinSeq - 1
			s.maxSeq = seq
		}
		return false
	case udelta < rtpMaxDropout:
		// In order, with a permissible gap.
		if seq < s.maxSeq {
			s.cycles += rtpSeqMod
		}
		s.maxSeq = seq
	case uint32(udelta) <= rtpSeqMod-rtpMaxMisorder:
		// A very large jump: restart if the next packet follows it (the sender restarted
		// without changing SSRC), otherwise ignore it.
		if uint32(seq) != s.badSeq {
			s.badSeq = (uint32(seq) + 1) & (rtpSeqMod - 1)
			return false
		}
		s.initSeq(seq)
		s.haveTr = false
	default:
		// Duplicate or reordered packet: counted, max unchanged.
	}
	s.received++
	return true
}

// snap returns the newest published counters; s.rmu is held.
func (s *RTPStats) snap() *rtpSnap {
	if s.pub.Load()&rtpFresh != 0 {
		s.frontX = uint8(s.pub.Swap(uint32(s.frontX^2^1))&3) ^ 1 ^ 2
	}
	return &s.buf[s.frontX^2]
}

// reception converts a snapshot to report units; s.rmu is held.
func (s *RTPStats) reception(n *rtpSnap) (r RTPReception) {
	if n.gen != s.gen {
		s.gen, s.expPrior, s.recPrior, s.fraction = n.gen, 0, 0, 0
	}
	expected := n.ext - n.base + 1
	lost := max(min(int64(expected)-int64(n.received), 0x7fffff), -0x800000)
	return RTPReception{SSRC: n.ssrc, FractionLost: s.fraction, TotalLost: int32(lost), ExtHighest: n.ext,
		Jitter: n.jitter16 >> 4, Received: n.received, Expected: expected}
}

// Snapshot returns the current statistics without starting a new report interval; ok is false
// until a source is valid. FractionLost is that of the last Report.
func (s *RTPStats) Snapshot() (r RTPReception, ok bool) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n := s.snap()
	if !n.valid {
		return RTPReception{}, false
	}
	return s.reception(n), true
}

// Report returns the statistics for an RTCP report block and starts a new interval for the
// fraction lost (A.3). ok is false while nothing valid has been received: RFC 3550 then sends
// no report block.
func (s *RTPStats) Report() (r RTPReception, ok bool) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	n := s.snap()
	if !n.valid {
		return RTPReception{}, false
	}
	r = s.reception(n)
	expInt := r.Expected - s.expPrior
	recInt := r.Received - s.recPrior
	s.expPrior, s.recPrior = r.Expected, r.Received
	s.fraction = 0
	if lostInt := int64(expInt) - int64(recInt); expInt != 0 && lostInt > 0 {
		s.fraction = uint8(min(lostInt<<8/int64(expInt), 255))
	}
	r.FractionLost = s.fraction
	return r, true
}
