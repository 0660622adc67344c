package rtp

import (
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/media"
	pionrtp "github.com/pion/rtp"
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

// relayPacket sends a packet received on another port through this one: new SSRC/seq/ts,
// this leg's SRTP key, transcoded when the link says so. Called from the source's reader.
func (p *RTPPort) relayPacket(h *pionrtp.Header, payload []byte, l *relayLink, cn bool) {
	p.smu.Lock()
	defer p.smu.Unlock()
	if p.dtmfTx.busy() || p.inbandTx != nil || p.closed.Load() || l.drop {
		return // our own digits own the stream right now, or the link is broken
	}
	if l.rp != nil {
		p.relayRepackedLocked(h, payload, l, cn)
		return
	}
	spf := l.spf
	seq, ts, m := p.seq.mapRelay(h.SSRC, h.SequenceNumber, h.Timestamp, spf)
	m = m || h.Marker
	pt := l.toPT
	if cn {
		pt = cnPT
	} else if l.tc != nil {
		n, err := l.tc.Transcode(l.buf, payload)
		if err != nil {
			return
		}
		payload = l.buf[:n]
	}
	p.sendRelayedLocked(pt, m, seq, ts, payload, cn)
}

// relayRepackedLocked is relayPacket for a link whose legs differ in ptime or clock: one input
// packet yields zero, one or more packets in this leg's framing.
func (p *RTPPort) relayRepackedLocked(h *pionrtp.Header, payload []byte, l *relayLink, cn bool) {
	rp := l.rp
	if cn {
		// The source went quiet: forward its SID at the current position of the timeline.
		rp.interrupt()
		seq, ts, _ := p.mapRepackedLocked(l, h.SSRC, rp.inTS(h.Timestamp))
		p.sendRelayedLocked(cnPT, true, seq, ts, payload, true)
		return
	}
	rp.push(h.SSRC, h.Timestamp, payload)
	for {
		pay, its, gap, ok := rp.pop(l.buf)
		if !ok {
			return
		}
		seq, ts, m := p.mapRepackedLocked(l, h.SSRC, its)
		p.sendRelayedLocked(l.toPT, m || gap || h.Marker, seq, ts, pay, false)
	}
}

// mapRepackedLocked numbers a packet of a re-packetizing link. Its first packet continues right
// after the last one the link it replaced sent.
func (p *RTPPort) mapRepackedLocked(l *relayLink, ssrc, ts uint32) (uint16, uint32, bool) {
	restart, spf := l.rp.fresh, l.spf
	if restart && l.prevSPF != 0 {
		spf = l.prevSPF
	}
	l.rp.fresh = false
	return p.seq.mapRenumbered(ssrc, ts, spf, restart)
}

// sendRelayedLocked sends a relayed packet and keeps a copy for write-direction taps.
func (p *RTPPort) sendRelayedLocked(pt uint8, m bool, seq uint16, ts uint32, payload []byte, cn bool) {
	if !p.canTx.Load() {
		return
	}
	p.sendLocked(pt, m, seq, ts, payload)
	if st := p.stream.Load(); st != nil && !cn && st.HasTaps() {
		// Keep a copy for the write-direction taps, decoded on the next tick.
		if p.txTapJB == nil {
			p.txTapJB = NewJitterBuffer(JitterConfig{Rate: max(p.codec.ClockRate, 8000), Ptime: p.codec.Interval()})
		}
		p.txTapJB.Push(seq, ts, p.seq.ssrc, m, payload, time.Now())
	}
}

// relayEvent forwards a telephone-event packet with this leg's telephone-event PT.
func (p *RTPPort) relayEvent(h *pionrtp.Header, payload []byte, l *relayLink) {
	p.mu.Lock()
	te := p.tePT
	p.mu.Unlock()
	p.smu.Lock()
	defer p.smu.Unlock()
	if te == 0 || p.closed.Load() || !p.canTx.Load() {
		return
	}
	if rp := l.rp; rp != nil {
		// Re-packetized audio has our own sequence numbers; events join that numbering, and
		// their timestamps and durations move to this leg's clock.
		var ev [4]byte
		if rp.from.ClockRate != rp.to.ClockRate && len(payload) >= 4 {
			copy(ev[:], payload)
			d := uint32(ev[2])<<8 | uint32(ev[3])
			d = min(d*uint32(rp.to.ClockRate)/uint32(max(rp.from.ClockRate, 1)), 0xffff)
			ev[2], ev[3] = byte(d>>8), byte(d)
			payload = ev[:]
		}
		seq, ts, m := p.mapRepackedLocked(l, h.SSRC, rp.inTS(h.Timestamp))
		p.sendLocked(te, m || h.Marker, seq, ts, payload)
		return
	}
	seq, ts, m := p.seq.mapRelay(h.SSRC, h.SequenceNumber, h.Timestamp, l.spf)
	p.sendLocked(te, m || h.Marker, seq, ts, payload)
}

// tapRelayedLocked decodes one frame of what the relay sent and shows it to DirWrite taps.
func (p *RTPPort) tapRelayedLocked(st *media.TermStream, ci media.CodecInfo) {
	if p.tapDecoder == nil {
		impl, err := media.CodecFor(ci)
		if err != nil {
			return
		}
		p.tapDecoder = impl.NewDecoder()
		p.tapPCM = make([]int16, len(p.decPCM))
	}
	pay, status := p.txTapJB.Pop(p.tapPay[:0])
	p.tapPay = pay
	spf := ci.SamplesPerFrame()
	pcm := p.tapPCM[:spf]
	switch status {
	case JitterOK:
		if n, err := p.tapDecoder.Decode(p.tapPCM, pay); err == nil {
			pcm = p.tapPCM[:n]
		}
	case JitterLost:
		pcm = pcm[:p.tapDecoder.Conceal(pcm)]
	default:
		return
	}
	if st.Rate() != ci.PCMRate() {
		if p.tapRS == nil {
			p.tapRS = media.NewResampler(ci.PCMRate(), st.Rate())
		}
		n := p.tapRS.Process(p.rsPCM, pcm)
		pcm = p.rsPCM[:n]
	}
	st.RunTaps(media.DirWrite, pcm, 0, 0)
}
