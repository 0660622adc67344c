package rtp_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// rtcpRig is a phone (RTP and RTCP sockets) talking to leg A, relayed to leg B, which talks to
// a far-end socket: the phone sees leg A's reports.
type rtcpRig struct {
	la, lb          *rtp.RTPPort
	phone, phoneCtl *net.UDPConn
	far             *net.UDPConn
	clk             *media.SoftClock
	stop            func()
}

func newRTCPRig(t *testing.T) *rtcpRig {
	t.Helper()
	r := &rtcpRig{clk: media.NewSoftClock(1)}
	var err error
	if r.la, err = rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: r.clk, RTCPInterval: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if r.lb, err = rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: r.clk, RTCPInterval: -1}); err != nil {
		t.Fatal(err)
	}
	udp := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r.phone, r.phoneCtl, r.far = udp(), udp(), udp()
	t.Cleanup(func() {
		if r.stop != nil {
			r.stop()
		}
		r.la.Close()
		r.lb.Close()
		r.clk.Close()
		r.phone.Close()
		r.phoneCtl.Close()
		r.far.Close()
	})
	r.la.SetCodec(pcmu, 101)
	r.lb.SetCodec(pcmu, 101)
	r.la.SetRemote(addrOf(r.phone), addrOf(r.phoneCtl))
	r.lb.SetRemote(addrOf(r.far), netip.AddrPort{})
	if r.stop, err = media.Bridge(r.la, r.lb); err != nil {
		t.Fatal(err)
	}
	return r
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends RTP packets from..to (inclusive) of ssrc from c to dst, skipping those drop says.
func sendRTP(t *testing.T, c *net.UDPConn, dst netip.AddrPort, ssrc uint32, from, to int, drop func(int) bool) {
	t.Helper()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	for i := from; i <= to; i++ {
		if drop != nil && drop(i) {
			continue
		}
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i)*160)
		if _, err := c.WriteToUDPAddrPort(pkt, dst); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond) // keep loopback socket buffers from overflowing
		}
	}
}

// nextReport reads the phone's RTCP socket until a compound packet arrives.
func (r *rtcpRig) nextReport(t *testing.T) (hdrSSRC uint32, sr bool, blocks []rtcp.ReceptionReport) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = r.phoneCtl.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := r.phoneCtl.Read(buf)
	if err != nil {
		t.Fatalf("no RTCP report: %v", err)
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil || len(pkts) == 0 {
		t.Fatalf("bad RTCP %x: %v", buf[:n], err)
	}
	switch p := pkts[0].(type) {
	case *rtcp.ReceiverReport:
		return p.SSRC, false, p.Reports
	case *rtcp.SenderReport:
		return p.SSRC, true, p.Reports
	}
	t.Fatalf("unexpected RTCP %T", pkts[0])
	return 0, false, nil
}

func lost24(v uint32) int32 { return int32(v<<8) >> 8 }

// TestRTCPReceiverReportRelayed drops packets on purpose on a relayed leg and checks the
// fraction and cumulative loss in the receiver reports the leg sends to the phone.
func TestRTCPReceiverReportRelayed(t *testing.T) {
	r := newRTCPRig(t)
	const ssrc = 0xcafe
	// Nothing received yet: an RR without report blocks (RFC 3550 6.4.2).
	if _, sr, blocks := r.nextReport(t); sr || len(blocks) != 0 {
		t.Fatalf("before any RTP: sr=%v blocks=%+v", sr, blocks)
	}

	var prevExt uint32 // packet 0 is the new source's probation: the base is 1
	var prevLost int32
	// waitFor reads reports until one covers seq last, checking every block on the way:
	// the fraction must be the interval's loss over its expected count (A.3).
	waitFor := func(last uint32) (rtcp.ReceptionReport, int) {
		t.Helper()
		for n := 1; ; n++ {
			_, sr, blocks := r.nextReport(t)
			if sr {
				t.Fatal("SR from a leg that sent nothing")
			}
			if len(blocks) == 0 {
				continue // the first packets may not have arrived yet
			}
			b := blocks[0]
			if len(blocks) != 1 || b.SSRC != ssrc {
				t.Fatalf("blocks %+v", blocks)
			}
			lost := lost24(b.TotalLost)
			dExp, dLost := int32(b.LastSequenceNumber-prevExt), lost-prevLost
			want := uint8(0)
			if dExp > 0 && dLost > 0 {
				want = uint8(dLost * 256 / dExp)
			}
			if b.FractionLost != want {
				t.Errorf("block %+v: fraction %d, want %d (%d lost of %d)", b, b.FractionLost, want, dLost, dExp)
			}
			prevExt, prevLost = b.LastSequenceNumber, lost
			if b.LastSequenceNumber == last {
				return b, n
			}
		}
	}

	dst := r.la.LocalAddr()
	sendRTP(t, r.phone, dst, ssrc, 0, 100, func(i int) bool { return i%4 == 2 }) // 25 of 1..100
	b, _ := waitFor(100)
	if lost24(b.TotalLost) != 25 {
		t.Errorf("after 100: lost %d, want 25", lost24(b.TotalLost))
	}
	// Right after a report, so the next interval very likely holds this whole burst.
	sendRTP(t, r.phone, dst, ssrc, 101, 200, func(i int) bool { return i%2 == 1 }) // 50 of 100
	b, n := waitFor(200)
	if lost24(b.TotalLost) != 75 {
		t.Errorf("after 200: lost %d, want 75", lost24(b.TotalLost))
	}
	t.Logf("second burst covered by %d report(s), last block %+v", n, b)
	if n == 1 && b.FractionLost != 128 {
		t.Errorf("fraction %d for half the interval lost, want 128", b.FractionLost)
	}
	if b.Jitter > 8000 {
		t.Errorf("jitter %d units (> 1 s) on loopback", b.Jitter)
	}
	st := r.la.Stats()
	if st.Lost != 75 || st.ExtHighestSeq != 200 || st.PacketsIn != 126 {
		t.Errorf("stats %+v", st)
	}
	if st.Jitter.Pushed != 0 {
		t.Errorf("relayed leg used its jitter buffer: %+v", st.Jitter)
	}
}

// TestRTCPRemoteReport has leg A send media (relayed from the far end), so it sends SRs; the
// phone answers with an RR about A's stream whose LSR/DLSR make a known round trip.
func TestRTCPRemoteReport(t *testing.T) {
	r := newRTCPRig(t)
	sendRTP(t, r.phone, r.la.LocalAddr(), 0x1111, 0, 3, nil) // latch A to the phone
	sendRTP(t, r.far, r.lb.LocalAddr(), 0x2222, 0, 20, nil)  // relayed B -> A -> phone

	var ours uint32 // leg A's SSRC, from its SR
	for {
		hdr, isSR, blocks := r.nextReport(t)
		if !isSR {
			continue
		}
		if len(blocks) != 1 || blocks[0].SSRC != 0x1111 {
			t.Fatalf("SR blocks %+v", blocks)
		}
		ours = hdr
		break
	}
	buf := make([]byte, 1500)
	_ = r.phone.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := r.phone.Read(buf); err != nil || n < 12 || binary.BigEndian.Uint32(buf[8:]) != ours {
		t.Fatalf("relayed RTP (%v) has another SSRC than the SR %#x", err, ours)
	}

	// Pretend A's last SR left 300 ms ago and the phone held it 100 ms: RTT = now - LSR - DLSR.
	now := time.Now()
	const ntpEpochOffset = 2208988800
	mid := uint32(uint64(now.Unix()+ntpEpochOffset)<<16 | uint64(now.Nanosecond())<<16/1e9)
	rr := &rtcp.ReceiverReport{SSRC: 0x1111, Reports: []rtcp.ReceptionReport{
		{SSRC: 0x9999, FractionLost: 1}, // someone else's stream: ignored
		{SSRC: ours, FractionLost: 64, TotalLost: 0xfffffe /* -2 */, Jitter: 80,
			LastSenderReport: mid - 65536*3/10, Delay: 65536 / 10},
	}}
	b, _ := rr.Marshal()
	if _, err := r.phoneCtl.WriteToUDPAddrPort(b, r.la.LocalRTCPAddr()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		st := r.la.Stats()
		if st.RemoteFractionLost == 64 {
			if st.RemoteLost != -2 || st.RemoteJitter != 10*time.Millisecond ||
				st.RTT < 190*time.Millisecond || st.RTT > 190*time.Millisecond+time.Second {
				t.Errorf("remote report: lost %d jitter %v rtt %v", st.RemoteLost, st.RemoteJitter, st.RTT)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote report not seen: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRTPStatsCountsAllPayloads: RFC 3550 counts every packet of the source, so
// telephone-event and CN packets fill the sequence gaps between audio packets.
func TestRTPStatsCountsAllPayloads(t *testing.T) {
	p := newPort(t, nil, pcmu, 101)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	p.SetRemote(from, netip.AddrPort{})
	pkt := make([]byte, 12+160)
	inject := func(seq int, pt byte, ts uint32) {
		pkt[0], pkt[1] = 0x80, pt
		binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
		binary.BigEndian.PutUint32(pkt[4:], ts)
		binary.BigEndian.PutUint32(pkt[8:], 0x77)
		p.InjectPacket(pkt[:12+4], from) // 4 bytes: a valid RFC 4733 event, or CN level
	}
	for i := range 10 {
		inject(i, 0, uint32(i)*160)
	}
	for i := 10; i < 20; i++ {
		inject(i, 101, 1600) // one digit: every packet has the event's start timestamp
	}
	inject(20, 13, 3200) // comfort noise
	for i := 21; i < 30; i++ {
		if i != 25 {
			inject(i, 0, uint32(i)*160)
		}
	}
	if st := p.Stats(); st.ExtHighestSeq != 29 || st.Lost != 1 || st.PacketsIn != 29 {
		t.Errorf("stats %+v", st)
	}
}
