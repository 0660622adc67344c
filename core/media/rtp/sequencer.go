package rtp

import "math/rand/v2"

// sequencer owns a port's outgoing SSRC, sequence number and timestamp. Whatever feeds the port
// (the local stream, a relayed leg, DTMF events) the far end sees one continuous stream: one
// SSRC, sequence numbers without jumps, timestamps that follow the sample count, and the marker
// bit when the source changes or after a gap (RFC 3551 §4.1).
type sequencer struct {
	ssrc uint32
	seq  uint16 // last sent
	ts   uint32 // timestamp of the last sent packet
	sent bool

	src    uint64 // current source: 0 none, srcLocal, or srcRelay|ssrc
	tsOff  uint32
	seqOff uint16

	localTS  uint32 // the local timeline, advanced every tick
	sentTick bool
	localGap bool
	eventTS  uint32
}

const (
	srcLocal = 1
	srcRelay = 1 << 32
)

func newSequencer() sequencer {
	return sequencer{ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), localTS: rand.Uint32()}
}

func (s *sequencer) switchToLocal(spf uint32) bool {
	if s.src == srcLocal {
		return false
	}
	s.src = srcLocal
	if s.sent {
		s.localTS = s.ts + spf
	}
	return true
}

// nextLocal numbers a packet from the local stream.
func (s *sequencer) nextLocal(spf uint32) (seq uint16, ts uint32, marker bool) {
	marker = s.switchToLocal(spf) || s.localGap
	s.localGap = false
	s.seq++
	s.ts, s.sent, s.sentTick = s.localTS, true, true
	return s.seq, s.ts, marker
}

// nextCN numbers an RFC 3389 SID packet on the local timeline. The audio that follows the
// silence starts a talkspurt, so it gets the marker bit.
func (s *sequencer) nextCN(spf uint32) (seq uint16, ts uint32, marker bool) {
	marker = s.switchToLocal(spf)
	s.seq++
	s.ts, s.sent, s.sentTick, s.localGap = s.localTS, true, true, true
	return s.seq, s.ts, marker
}

// nextEvent numbers an RFC 4733 packet; every packet of one event carries the event's start ts.
func (s *sequencer) nextEvent(start bool, spf uint32) (seq uint16, ts uint32, marker bool) {
	s.switchToLocal(spf)
	if start {
		s.eventTS = s.localTS
		marker = true
	}
	s.seq++
	s.ts, s.sent, s.sentTick = s.eventTS, true, true
	return s.seq, s.eventTS, marker
}

// tick advances the local timeline by one frame; a tick without a local packet leaves a gap.
func (s *sequencer) tick(spf uint32) {
	if s.src == srcLocal && !s.sentTick && s.sent {
		s.localGap = true
	}
	s.sentTick = false
	s.localTS += spf
}

// skip advances the local timeline over frames the clock missed: the far end sees a timestamp
// gap that matches wall time, and the next local packet carries the marker bit.
func (s *sequencer) skip(samples uint32) {
	s.localTS += samples
	if s.src == srcLocal && s.sent {
		s.localGap = true
	}
}

// anchor starts mapping a new relayed source (key): its timestamps continue one frame (spf)
// after the last one we sent, or from our local timeline if we have sent nothing.
func (s *sequencer) anchor(key uint64, inTS, spf uint32) {
	s.src = key
	next := s.localTS
	if s.sent {
		next = s.ts + spf
	}
	s.tsOff = next - inTS
}

// mapRelay rewrites a relayed packet's numbers onto our stream.
func (s *sequencer) mapRelay(srcSSRC uint32, inSeq uint16, inTS uint32, spf uint32) (seq uint16, ts uint32, marker bool) {
	if key := srcRelay | uint64(srcSSRC); s.src != key {
		s.anchor(key, inTS, spf)
		marker = true
		s.seqOff = s.seq + 1 - inSeq
	}
	seq, ts = inSeq+s.seqOff, inTS+s.tsOff
	if int16(seq-s.seq) > 0 {
		s.seq = seq
	}
	if marker || int32(ts-s.ts) > 0 {
		s.ts = ts
	}
	s.localTS = s.ts
	s.sent = true
	return seq, ts, marker
}

// mapRenumbered numbers a relayed packet that was re-packetized (its source's ptime or clock
// differs): timestamps map like mapRelay's, but sequence numbers are our own, one per packet
// sent. restart re-anchors the timeline (a new re-packetizer after a re-INVITE) so it continues
// from the last packet sent, as a change of source does.
func (s *sequencer) mapRenumbered(srcSSRC uint32, inTS uint32, spf uint32, restart bool) (seq uint16, ts uint32, marker bool) {
	if key := srcRelay | uint64(srcSSRC); s.src != key || restart {
		s.anchor(key, inTS, spf)
		marker = true
	}
	s.seq++
	ts = inTS + s.tsOff
	if marker || int32(ts-s.ts) > 0 {
		s.ts = ts
	}
	s.localTS = s.ts
	s.sent = true
	return s.seq, ts, marker
}
