package rtp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

const cnPT = 13 // RFC 3389 comfort noise, static payload type

// readLoop is the port's own reader goroutine where there are no poll shards (see
// poller_linux.go): read -> handle, with the RTP timeout on a read deadline.
func (p *RTPPort) readLoop() {
	defer p.wg.Done()
	buf := make([]byte, maxPacket+64)
	var deadlineSet time.Time
	for {
		now := time.Now()
		if to := p.timeout(); to > 0 && now.Sub(deadlineSet) > time.Second {
			// Refreshing the deadline about once a second keeps the per-packet cost nil.
			_ = p.conn.SetReadDeadline(now.Add(min(to, time.Second*2)))
			deadlineSet = now
		}
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		now = time.Now() // arrival time, for jitter
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadlineSet = time.Time{}
				p.checkTimeout(time.Now())
			}
			continue
		}
		p.injMu.Lock()
		p.handle(buf[:n], from, now)
		p.injMu.Unlock()
		if to := p.timeout(); to > 0 {
			p.checkTimeout(now)
		}
	}
}

func (p *RTPPort) timeout() time.Duration {
	if p.holdTO.Load() {
		return p.cfg.HoldTimeout
	}
	return p.cfg.Timeout
}

func (p *RTPPort) checkTimeout(now time.Time) {
	to := p.timeout()
	if to <= 0 || p.cfg.OnTimeout == nil {
		return
	}
	if now.Sub(time.Unix(0, p.lastRecv.Load())) >= to && !p.timedOut.Swap(true) {
		p.log.Info("RTP timeout", "local", p.local, "after", to)
		p.callback(p.cfg.OnTimeout)
	}
}

// InjectPacket processes pkt as if it had been read from the RTP socket, coming from "from".
// It serves packet sources other than the socket (pcap replay), fuzzing and benchmarks. It must
// not be called concurrently with itself; the port's own reader may run at the same time only if
// the port never receives socket traffic. pkt is modified in place (SRTP decryption).
func (p *RTPPort) InjectPacket(pkt []byte, from netip.AddrPort) {
	p.injMu.Lock()
	p.handle(pkt, from, time.Now())
	p.injMu.Unlock()
}

// handle processes one datagram: the RTP/RFC 4733 ingest path.
func (p *RTPPort) handle(pkt []byte, from netip.AddrPort, now time.Time) {
	p.handleTE(pkt, from, now, p.teRecvPT.Load())
}

// handleTE is handle with the telephone-event payload type already loaded (once per receive
// batch by the poll shard).
func (p *RTPPort) handleTE(pkt []byte, from netip.AddrPort, now time.Time, te uint32) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || pkt[1]&0x7f >= 72 && pkt[1]&0x7f <= 76 {
		// Not RTP: RTCP multiplexed on the RTP port (RFC 5761; an empty RR is 8 bytes), or STUN
		// and DTLS for a WebRTC leg (demux.go).
		if !p.demuxed(pkt, from) {
			p.stDropped.Add(1)
		}
		return
	}
	if dec := p.dec.Load(); dec != nil {
		out, err := dec.DecryptRTP(pkt, pkt, &p.rxHdr)
		if err != nil {
			p.stDecErr.Add(1)
			return
		}
		pkt = out
	}
	hl, err := p.rxHdr.Unmarshal(pkt)
	if err != nil {
		p.stDropped.Add(1)
		return
	}
	payload := pkt[hl:]
	if p.rxHdr.Padding && len(payload) > 0 {
		pad := int(payload[len(payload)-1])
		if pad == 0 || pad > len(payload) {
			p.stDropped.Add(1)
			return
		}
		payload = payload[:len(payload)-pad]
	}
	pt := uint32(p.rxHdr.PayloadType)
	audio := p.audioPT.Load()
	if pt != audio && (te == 0 || pt != te) && pt != cnPT {
		p.stDropped.Add(1)
		return
	}
	if !p.latch(from) {
		p.stDropped.Add(1)
		return
	}
	p.stPktIn.Add(1)
	p.stBytesIn.Add(uint64(len(pkt)))
	p.lastRecv.Store(now.UnixNano())
	p.timedOut.Store(false)
	p.rxSSRC.Store(p.rxHdr.SSRC)
	p.countRx(pt, te, now, len(payload))
	link := p.peer.Load()
	switch {
	case te != 0 && pt == te:
		p.ingestEvent(payload, link)
	case pt == cnPT:
		if len(payload) > 0 {
			p.cnLevel.Store(uint32(payload[0] & 0x7f))
		}
		p.inCN.Store(true)
		if link != nil {
			link.to.relayPacket(&p.rxHdr, payload, link, true)
		}
	default:
		p.inCN.Store(false)
		st := p.stream.Load()
		if link != nil {
			link.to.relayPacket(&p.rxHdr, payload, link, false)
			observeRelayDelay(p.delayStripe, time.Since(now))
			if p.cfg.OnRelayed != nil {
				p.cfg.OnRelayed(now)
			}
			if st == nil || (!st.HasTaps() && !p.inband.Load()) {
				return
			}
			// A media bug (record_session, eavesdrop) or in-band DTMF detection (start_dtmf)
			// on a relayed leg: also decode what arrives, so the tap or the detector hears it;
			// the relay itself is unaffected.
		}
		if st != nil {
			p.jb.Load().Push(p.rxHdr.SequenceNumber, p.rxHdr.Timestamp, p.rxHdr.SSRC, p.rxHdr.Marker, payload, now)
		}
	}
}

// latch applies symmetric RTP: until latched, the source of the first valid packet becomes the
// remote address (NAT traversal, FreeSWITCH "auto adjust"); afterwards only that source is
// accepted, so stray or stale packets from elsewhere are ignored.
func (p *RTPPort) latch(from netip.AddrPort) bool {
	if p.remote.Load() == nil {
		// Nothing negotiated yet: whatever arrives belongs to a previous user of this port.
		return false
	}
	if p.cfg.NoLatch {
		return true
	}
	if p.latched.Load() {
		r := p.remote.Load()
		return r != nil && *r == from
	}
	f := from
	p.remote.Store(&f)
	if p.rtcpMux.Load() {
		p.remoteRTCP.Store(&f)
	} else if rr := p.remoteRTCP.Load(); rr == nil || !rr.IsValid() || rr.Addr() != from.Addr() {
		rtcp := netip.AddrPortFrom(from.Addr(), from.Port()+1)
		p.remoteRTCP.Store(&rtcp)
	}
	p.latched.Store(true)
	return true
}

// ingestEvent handles an RFC 4733 packet: digits go to OnDTMF; when relaying to a leg that
// negotiated telephone-event the packets themselves are forwarded, otherwise the digit is
// re-sent the way that leg can take it.
func (p *RTPPort) ingestEvent(payload []byte, link *relayLink) {
	p.dtmfRx.rate = int(p.clockRate.Load())
	d, ok, prev, okPrev := p.dtmfRx.ingest(p.rxHdr.Timestamp, payload)
	// A hooked channel (bind_meta_app) sees each digit before the other leg does: the digit is
	// then re-sent there when it ends, unless the channel kept it.
	raw := link != nil && link.to != p && link.to.forwardsEvents() && !p.dtmfHooked()
	if raw {
		link.to.relayEvent(&p.rxHdr, payload, link)
	}
	for _, x := range [2]struct {
		d  media.DTMF
		ok bool
	}{{prev, okPrev}, {d, ok}} {
		if !x.ok {
			continue
		}
		if raw {
			p.stDTMF.Add(1)
			p.deliverDTMF(x.d)
		} else {
			p.emitDTMF(x.d)
		}
	}
}
