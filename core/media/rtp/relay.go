package rtp

import (
	"github.com/goswitch/goswitch/core/media"
	"sync/atomic"
)

// relayLink is one direction of a packet relay: packets arriving on the owner go out through to.
type relayLink struct {
	to   *RTPPort
	toPT uint8
	spf  uint32
	tc   *media.Transcoder // nil when the codecs match
	rp   *repacketizer
	buf  []byte
	stop func()
	drop bool // codecs changed into something this relay cannot carry

	prevSPF uint32 // duration of the packets the previous link sent, to continue its timeline
}

// Relay joins this port to another RTP port without the clock or jitter buffer: same codec
// packets are forwarded with SSRC/seq/ts rewritten and SRTP re-keyed per leg; different codecs
// with the same ptime and RTP clock are transcoded packet by packet. Taps on either leg's Stream
// (record_session, eavesdrop) still see both directions: relayed packets are also decoded for
// them. It reports false when the ports cannot be joined this way; Bridge then falls back to
// copying frames through both Streams.
func (p *RTPPort) Relay(to media.Port) (stop func(), ok bool) {
	q, isRTP := to.(*RTPPort)
	if !isRTP || q == p {
		return nil, false
	}
	ab, err := newRelayLink(p, q, false)
	if err != nil {
		return nil, false
	}
	ba, err := newRelayLink(q, p, false)
	if err != nil {
		return nil, false
	}
	stopped := atomic.Bool{}
	stopFn := func() {
		if stopped.Swap(true) {
			return
		}
		// Links may have been rebuilt by SetCodec since; clear whatever joins these two.
		if l := p.peer.Load(); l != nil && l.to == q {
			p.peer.CompareAndSwap(l, nil)
		}
		if l := q.peer.Load(); l != nil && l.to == p {
			q.peer.CompareAndSwap(l, nil)
		}
		p.SetDTMFPeer(nil)
		q.SetDTMFPeer(nil)
	}
	ab.stop, ba.stop = stopFn, stopFn
	// Digits cross as packets when both legs negotiated telephone-event; otherwise the digit is
	// re-sent on the other leg (in-band or INFO) through its SendDTMF.
	if !p.forwardsEvents() {
		q.SetDTMFPeer(p) // digits arriving on q reach p through p.SendDTMF
	}
	if !q.forwardsEvents() {
		p.SetDTMFPeer(q)
	}
	p.peer.Store(ab)
	q.peer.Store(ba)
	return stopFn, true
}

func (p *RTPPort) SetDTMFPeer(to media.Port) {
	p.mu.Lock()
	p.dtmfPeer = to
	p.mu.Unlock()
}

// newRelayLink builds one direction. Packets are forwarded as they are (same codec and ptime) or
// transcoded one by one (same ptime and RTP clock). A different ptime or clock needs
// re-packetizing, which only repack allows: a new bridge then rather copies frames through the
// jitter buffers and the clock (Bridge's fallback), but a relay that is already running cannot
// change its kind when a re-INVITE changes one leg.
func newRelayLink(from, to *RTPPort, repack bool) (*relayLink, error) {
	fc, tc := from.Codec(), to.Codec()
	l := &relayLink{to: to, toPT: tc.PT, spf: uint32(fc.RTPSamplesPerFrame())}
	if fc.Interval() != tc.Interval() || fc.ClockRate != tc.ClockRate {
		// Forwarding 20 ms packets to a leg that negotiated 30 ms (or another clock) is not
		// what it agreed to receive; decode and re-encode in its framing.
		if !repack {
			return nil, media.ErrNoCommonCodec
		}
		rp, err := newRepacketizer(fc, tc)
		if err != nil {
			return nil, err
		}
		l.rp, l.spf, l.buf = rp, uint32(tc.RTPSamplesPerFrame()), make([]byte, maxPacket)
		return l, nil
	}
	if fc.Same(tc) {
		return l, nil
	}
	t, err := media.NewTranscoder(fc, tc)
	if err != nil {
		return nil, err
	}
	l.tc, l.buf = t, make([]byte, maxPacket)
	return l, nil
}

// relink rebuilds both directions of an active relay after a codec change (re-INVITE); a new
// ptime or clock on one leg makes the links re-packetize. Only when no link can be built (a codec
// without an implementation) does it drop audio rather than send the wrong payload.
func (p *RTPPort) relink() {
	l := p.peer.Load()
	if l == nil {
		return
	}
	q := l.to
	for _, dir := range [2][2]*RTPPort{{p, q}, {q, p}} {
		from, to := dir[0], dir[1]
		old := from.peer.Load()
		if old == nil || old.to != to {
			continue
		}
		nl, err := newRelayLink(from, to, true)
		if err != nil {
			nl = &relayLink{to: to, drop: true}
		}
		nl.stop, nl.prevSPF = old.stop, old.spf
		from.peer.CompareAndSwap(old, nl)
	}
}

// forwardsEvents reports whether relayed RFC 4733 packets can be sent through p as they are:
// telephone-event negotiated and the leg's DTMF mode is RFC 2833.
func (p *RTPPort) forwardsEvents() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tePT != 0 && p.dtmfMode == media.DTMFRFC2833 && !p.genInband.Load()
}
