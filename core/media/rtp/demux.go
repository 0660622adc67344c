package rtp

import (
	"net/netip"
	"time"
)

// DemuxFunc receives a datagram that arrived on the RTP socket but is not RTP or RTCP: STUN
// (first byte 0-3) or DTLS (20-63), as RFC 7983 sorts them. It runs on the port's reader with
// the receive buffer, which is reused as soon as it returns: it must copy what it keeps, and
// must not block.
type DemuxFunc func(pkt []byte, from netip.AddrPort)

// SetDemux installs the receiver of STUN and DTLS datagrams (a WebRTC leg's ICE-lite agent and
// DTLS transport); nil drops them again, as a plain RTP leg does.
func (p *RTPPort) SetDemux(fn DemuxFunc) {
	if fn == nil {
		p.demux.Store(nil)
		return
	}
	p.demux.Store(&fn)
}

// demuxed takes a datagram that is not RTP: muxed RTCP when rtcp-mux is on, else STUN or DTLS
// for the demux hook, if one is installed. It reports whether the datagram was taken.
func (p *RTPPort) demuxed(pkt []byte, from netip.AddrPort) bool {
	if len(pkt) >= 8 && pkt[0]>>6 == 2 {
		if pt := pkt[1] & 0x7f; pt >= 72 && pt <= 76 && p.rtcpMux.Load() {
			p.handleRTCP(pkt)
			return true
		}
		return false
	}
	fn := p.demux.Load()
	if fn == nil || len(pkt) == 0 || pkt[0] > 63 {
		return false
	}
	(*fn)(pkt, from)
	return true
}

// OnClose sets a function Close calls first (once), so what rides on the port (a WebRTC
// leg's DTLS session) ends with it whoever closes it. It must not block on the port's goroutines.
func (p *RTPPort) OnClose(fn func()) { p.onClose.Store(&fn) }

// SetRTCPMux makes RTCP share the RTP socket (RFC 5761 a=rtcp-mux, required by WebRTC): RTCP
// that arrives there is taken, reports are sent there, and latching keeps RTCP on the RTP address.
func (p *RTPPort) SetRTCPMux(on bool) { p.rtcpMux.Store(on) }

// WriteRaw sends one datagram from the RTP socket (STUN responses, DTLS records).
func (p *RTPPort) WriteRaw(pkt []byte, to netip.AddrPort) error {
	p.smu.Lock()
	defer p.smu.Unlock()
	return p.writeTo(pkt, to)
}

// Latch makes to the remote RTP (and, with rtcp-mux, RTCP) address and latches it, as a valid
// RTP packet from there would: the ICE agent calls it for the pair a connectivity check selected.
// It is a no-op while the remote is already latched to to.
func (p *RTPPort) Latch(to netip.AddrPort) {
	if r := p.remote.Load(); r != nil && *r == to && p.latched.Load() {
		return
	}
	t := to
	p.remote.Store(&t)
	if p.rtcpMux.Load() {
		p.remoteRTCP.Store(&t)
	}
	p.latched.Store(true)
	p.lastRecv.Store(time.Now().UnixNano())
}
