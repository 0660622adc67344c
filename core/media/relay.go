package media

import (
	"sync/atomic"
)

// relayLink is one direction of a packet relay: packets arriving on the owner go out through to.
type relayLink struct {
	to   *RTPPort
	toPT uint8
	spf  uint32
	tc   *Transcoder // nil when the codecs match
	buf  []byte
	stop func()
	drop bool // codecs changed into something this relay cannot carry
}

// Relay joins this port to another RTP port without the clock or jitter buffer: same codec
// packets are forwarded with SSRC/seq/ts rewritten and SRTP re-keyed per leg; different codecs
// with the same ptime and RTP clock are transcoded packet by packet. Taps on either leg's Stream
// (record_session, eavesdrop) still see both directions: relayed packets are also decoded for
// them. It reports false when the ports cannot be joined this way; Bridge then falls back to
// copying frames through both Streams.
func (p *RTPPort) Relay(to Port) (stop func(), ok bool) {
	q, isRTP := to.(*RTPPort)
	if !isRTP || q == p {
		return nil, false
	}
	ab, err := newRelayLink(p, q)
	if err != nil {
		return nil, false
	}
	ba, err := newRelayLink(q, p)
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
		p.setDTMFPeer(nil)
		q.setDTMFPeer(nil)
	}
	ab.stop, ba.stop = stopFn, stopFn
	// Digits cross as packets when both legs negotiated telephone-event; otherwise the digit is
	// re-sent on the other leg (in-band or INFO) through its SendDTMF.
	if !p.forwardsEvents() {
		q.setDTMFPeer(p) // digits arriving on q reach p through p.SendDTMF
	}
	if !q.forwardsEvents() {
		p.setDTMFPeer(q)
	}
	p.peer.Store(ab)
	q.peer.Store(ba)
	return stopFn, true
}

func (p *RTPPort) setDTMFPeer(to Port) {
	p.mu.Lock()
	p.dtmfPeer = to
	p.mu.Unlock()
}

func newRelayLink(from, to *RTPPort) (*relayLink, error) {
	fc, tc := from.Codec(), to.Codec()
	l := &relayLink{to: to, toPT: tc.PT, spf: uint32(fc.rtpSamplesPerFrame())}
	if fc.Same(tc) {
		return l, nil
	}
	if fc.ptime() != tc.ptime() || fc.ClockRate != tc.ClockRate {
		return nil, ErrNoCommonCodec
	}
	t, err := NewTranscoder(fc, tc)
	if err != nil {
		return nil, err
	}
	l.tc, l.buf = t, make([]byte, maxPacket)
	return l, nil
}

// relink rebuilds both directions of an active relay after a codec change (re-INVITE). When the
// new codecs cannot be relayed (different ptime or clock) the link drops audio rather than send
// the wrong payload; the bridge owner should re-bridge.
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
		nl, err := newRelayLink(from, to)
		if err != nil {
			nl = &relayLink{to: to, drop: true}
		}
		nl.stop = old.stop
		from.peer.CompareAndSwap(old, nl)
	}
}

// forwardsEvents reports whether relayed RFC 4733 packets can be sent through p as they are:
// telephone-event negotiated and the leg's DTMF mode is RFC 2833.
func (p *RTPPort) forwardsEvents() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tePT != 0 && p.dtmfMode == DTMFRFC2833
}
