package rtp

// Echo sends every packet that arrives on the port back to its far end as it came: the same
// payload and packet duration, renumbered onto the port's own SSRC/seq/ts like a relayed packet,
// with no clock, jitter buffer or codec in between. So a caller that sends nothing gets nothing,
// and 30 ms packets come back as 30 ms packets, as FreeSWITCH's echo returns the frames it reads.
// RFC 4733 digits are not echoed: they go to the channel (OnDTMF) as FreeSWITCH queues them.
// Taps (record_session) still hear both directions. stop ends the echo; the port's Stream (if
// any) then sends again.
func (p *RTPPort) Echo() (stop func()) {
	l, err := newRelayLink(p, p, false)
	if err != nil {
		l = &relayLink{to: p, toPT: p.Codec().PT, spf: uint32(p.Codec().RTPSamplesPerFrame())}
	}
	l.stop = func() {
		if cur := p.peer.Load(); cur != nil && cur.to == p {
			p.peer.CompareAndSwap(cur, nil)
		}
	}
	p.peer.Store(l)
	return l.stop
}
