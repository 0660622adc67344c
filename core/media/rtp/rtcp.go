package rtp

import (
	"errors"
	"net"
	"time"

	"github.com/pion/rtcp"
)

// readRTCP is the RTCP socket's (RTP port + 1) reader goroutine where there are no poll shards.
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
		p.handleRTCP(buf[:n])
	}
}

// handleRTCP takes one RTCP datagram: decrypt SRTCP, remember the last sender report for our
// receiver reports and what the far end says about our stream.
func (p *RTPPort) handleRTCP(pkt []byte) {
	p.stRTCPIn.Add(1)
	p.stRTCPBytesIn.Add(uint64(len(pkt)))
	if dec := p.rtcpDec.Load(); dec != nil {
		var h rtcp.Header
		var err error
		if pkt, err = dec.DecryptRTCP(pkt, pkt, &h); err != nil {
			p.stDecErr.Add(1)
			return
		}
	}
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return
	}
	now := time.Now()
	for _, x := range pkts {
		switch r := x.(type) {
		case *rtcp.SenderReport:
			p.smu.Lock()
			p.lastSR = uint32(r.NTPTime >> 16)
			p.lastSRAt = now
			p.smu.Unlock()
			p.remoteBlocks(r.Reports, now)
		case *rtcp.ReceiverReport:
			p.remoteBlocks(r.Reports, now)
		}
	}
}

// remoteReport is what the far end last said about the stream we send.
type remoteReport struct {
	fraction uint8
	lost     int64
	jitter   uint32 // RTP timestamp units
	rtt      time.Duration
}

// remoteBlocks keeps the report block about our SSRC, with the round-trip time from its LSR and
// DLSR (RFC 3550 6.4.1: arrival - LSR - DLSR, all in 1/65536 s).
func (p *RTPPort) remoteBlocks(blocks []rtcp.ReceptionReport, now time.Time) {
	if len(blocks) == 0 {
		return
	}
	p.smu.Lock()
	ours := p.seq.ssrc
	p.smu.Unlock()
	for _, b := range blocks {
		if b.SSRC != ours {
			continue
		}
		rr := remoteReport{fraction: b.FractionLost, lost: int64(int32(b.TotalLost<<8) >> 8), jitter: b.Jitter}
		p.rrMu.Lock()
		if b.LastSenderReport != 0 {
			if d := int32(uint32(ntpTime(now)>>16) - b.LastSenderReport - b.Delay); d >= 0 {
				rr.rtt = time.Duration(int64(d) * int64(time.Second) >> 16)
			}
		} else {
			rr.rtt = p.rrRemote.rtt // an RR without LSR says nothing new about the RTT
		}
		p.rrRemote = rr
		p.rrMu.Unlock()
	}
}

// rtpDuration converts RTP timestamp units at rate to a duration.
func rtpDuration(units, rate uint32) time.Duration {
	if rate == 0 {
		return 0
	}
	return time.Duration(uint64(units) * uint64(time.Second) / uint64(rate))
}

// countRx feeds the receiver statistics with the packet in p.rxHdr (reader goroutine).
func (p *RTPPort) countRx(pt, te uint32, now time.Time, payload int) {
	switch {
	case te != 0 && pt == te:
		p.stEventsIn.Add(1)
	case pt == cnPT:
		p.stCNIn.Add(1)
	default:
		p.stMediaIn.Add(1)
		p.stMediaBytesIn.Add(uint64(payload))
	}
	rate := p.clockRate.Load()
	if (te != 0 && pt == te) || (pt == cnPT && rate != 8000) {
		// Events repeat one timestamp per digit; CN (PT 13) runs at 8 kHz whatever the
		// codec: neither says anything about the audio clock's jitter. They still count.
		rate = 0
	}
	p.rxStats.Update(p.rxHdr.SSRC, p.rxHdr.SequenceNumber, p.rxHdr.Timestamp, now, rate)
}

// sendReport sends an SR (if we sent media) or RR with one report block about the remote source;
// while no valid source has arrived the report has no block (RFC 3550 6.4.1/6.4.2).
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
	var blocks []rtcp.ReceptionReport
	if rx, ok := p.rxStats.Report(); ok {
		// TotalLost is a 24-bit two's complement field: negative means duplicates.
		rb := rtcp.ReceptionReport{SSRC: rx.SSRC, FractionLost: rx.FractionLost, TotalLost: uint32(rx.TotalLost) & 0xffffff,
			LastSequenceNumber: rx.ExtHighest, Jitter: rx.Jitter, LastSenderReport: p.lastSR}
		if !p.lastSRAt.IsZero() {
			rb.Delay = uint32(now.Sub(p.lastSRAt).Seconds() * 65536)
		}
		blocks = []rtcp.ReceptionReport{rb}
	}
	var pkt rtcp.Packet
	if p.seq.sent {
		pkt = &rtcp.SenderReport{SSRC: p.seq.ssrc, NTPTime: ntpTime(now), RTPTime: p.seq.ts,
			PacketCount: uint32(p.stPktOut.Load()), OctetCount: uint32(p.stBytesOut.Load()),
			Reports: blocks}
	} else {
		pkt = &rtcp.ReceiverReport{SSRC: p.seq.ssrc, Reports: blocks}
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
	if p.rtcpMux.Load() {
		_ = p.writeTo(b, *r)
		return
	}
	_, _ = p.rtcp.WriteToUDPAddrPort(b, *r)
}

func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}
