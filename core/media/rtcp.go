package media

import (
	"errors"
	"net"
	"time"

	"github.com/pion/rtcp"
)

// readRTCP reads the RTCP socket (RTP port + 1): decrypt SRTCP, remember the last sender report
// for our receiver reports. RTCP also counts as "media alive" for the timeout, as in FreeSWITCH.
func (p *RTPPort) readRTCP() {
	defer p.wg.Done()
	buf := make([]byte, maxPacket+64)
	for {
		n, _, err := p.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := buf[:n]
		if dec := p.rtcpDec.Load(); dec != nil {
			var h rtcp.Header
			if pkt, err = dec.DecryptRTCP(pkt, pkt, &h); err != nil {
				p.stDecErr.Add(1)
				continue
			}
		}
		pkts, err := rtcp.Unmarshal(pkt)
		if err != nil {
			continue
		}
		for _, x := range pkts {
			if sr, ok := x.(*rtcp.SenderReport); ok {
				p.smu.Lock()
				p.lastSR = uint32(sr.NTPTime >> 16)
				p.lastSRAt = time.Now()
				p.smu.Unlock()
			}
		}
	}
}

// sendReport sends an SR (if we sent media) or RR with one report block about the remote source.
func (p *RTPPort) sendReport(now time.Time) {
	if p.closed.Load() {
		return
	}
	r := p.remoteRTCP.Load()
	if r == nil || !r.IsValid() || r.Addr().IsUnspecified() {
		return
	}
	p.smu.Lock()
	defer p.smu.Unlock()
	js := p.jb.Load().Stats()
	rb := rtcp.ReceptionReport{SSRC: p.rxSSRC.Load(), TotalLost: uint32(js.Lost),
		LastSequenceNumber: p.rxSeqA.Load(), LastSenderReport: p.lastSR,
		Jitter: uint32(js.Jitter.Seconds() * float64(p.codec.ClockRate))}
	if !p.lastSRAt.IsZero() {
		rb.Delay = uint32(now.Sub(p.lastSRAt).Seconds() * 65536)
	}
	var pkt rtcp.Packet
	if p.seq.sent {
		pkt = &rtcp.SenderReport{SSRC: p.seq.ssrc, NTPTime: ntpTime(now), RTPTime: p.seq.ts,
			PacketCount: uint32(p.stPktOut.Load()), OctetCount: uint32(p.stBytesOut.Load()),
			Reports: []rtcp.ReceptionReport{rb}}
	} else {
		pkt = &rtcp.ReceiverReport{SSRC: p.seq.ssrc, Reports: []rtcp.ReceptionReport{rb}}
	}
	b, err := pkt.Marshal()
	if err != nil {
		return
	}
	if p.enc != nil {
		if b, err = p.enc.EncryptRTCP(nil, b, nil); err != nil {
			return
		}
	}
	_, _ = p.rtcp.WriteToUDPAddrPort(b, *r)
}

func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}
