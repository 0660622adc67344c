package media

import (
	"sync"
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
// (appendix A.1), loss (A.3) and interarrival jitter (A.8). The receive path calls Update for
// every packet, the RTCP timer calls Report; a small mutex makes the two safe together (it is
// uncontended but for one report every few seconds). The zero value is ready to use.
type RTPStats struct {
	mu sync.Mutex
	st rtpState
}

// rtpState is RTPStats' data, apart from the mutex so a new source can reset it in one go.
type rtpState struct {
	active    bool // a source is known (ssrc is meaningful)
	ssrc      uint32
	maxSeq    uint16 // highest sequence number seen
	cycles    uint32 // wraps of the sequence number, shifted left by 16
	baseSeq   uint32
	badSeq    uint32 // last "bad" sequence number + 1, RTP_SEQ_MOD+1 when none
	probation int
	received  uint32 // packets accepted, duplicates included (so lost may go negative)

	expectedPrior, receivedPrior uint32 // at the last Report, for fraction lost
	fraction                     uint8  // fraction lost in the last Report's interval

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
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.active || ssrc != s.st.ssrc {
		// A new source (or the remote restarted with a new SSRC): start over, on probation.
		s.st = rtpState{active: true, ssrc: ssrc, probation: rtpMinSeq}
		s.st.initSeq(seq)
		s.st.maxSeq = seq - 1
	}
	return s.st.update(seq, ts, arrival, clockRate)
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
	s.receivedPrior = 0
	s.expectedPrior = 0
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

// snapshot fills what both Snapshot and Report return.
func (s *rtpState) snapshot() (r RTPReception, expected uint32) {
	ext := s.cycles + uint32(s.maxSeq)
	expected = ext - s.baseSeq + 1
	lost := int64(expected) - int64(s.received)
	lost = max(min(lost, 0x7fffff), -0x800000)
	return RTPReception{SSRC: s.ssrc, FractionLost: s.fraction, TotalLost: int32(lost), ExtHighest: ext,
		Jitter: s.jitter16 >> 4, Received: s.received, Expected: expected}, expected
}

// Snapshot returns the current statistics without starting a new report interval; ok is false
// until a source is valid. FractionLost is that of the last Report.
func (s *RTPStats) Snapshot() (r RTPReception, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.valid() {
		return RTPReception{}, false
	}
	r, _ = s.st.snapshot()
	return r, true
}

// Report returns the statistics for an RTCP report block and starts a new interval for the
// fraction lost (A.3). ok is false while nothing valid has been received: RFC 3550 then sends
// no report block.
func (s *RTPStats) Report() (r RTPReception, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.st
	if !st.valid() {
		return RTPReception{}, false
	}
	r, expected := st.snapshot()
	expInt := expected - st.expectedPrior
	recvInt := st.received - st.receivedPrior
	st.expectedPrior, st.receivedPrior = expected, st.received
	st.fraction = 0
	if lostInt := int64(expInt) - int64(recvInt); expInt != 0 && lostInt > 0 {
		st.fraction = uint8(min(lostInt<<8/int64(expInt), 255))
	}
	r.FractionLost = st.fraction
	return r, true
}

// valid: a source has passed probation (and received counts from there).
func (s *rtpState) valid() bool { return s.active && s.probation == 0 }
