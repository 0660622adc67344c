package rtp_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// Received RTCP is counted (rtp_audio_rtcp_packet_count / _octet_count at hangup).
func TestRTCPReceivedIsCounted(t *testing.T) {
	r := newRTCPRig(t)
	b, _ := (&rtcp.ReceiverReport{SSRC: 0x1111}).Marshal()
	for range 2 {
		if _, err := r.phoneCtl.WriteToUDPAddrPort(b, r.la.LocalRTCPAddr()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for st := r.la.Stats(); st.RTCPIn < 2; st = r.la.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("RTCP counted %d packets, %d bytes; want 2", st.RTCPIn, st.RTCPBytesIn)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := r.la.Stats(); st.RTCPIn != 2 || st.RTCPBytesIn != uint64(2*len(b)) {
		t.Errorf("RTCP counted %d packets, %d bytes; want 2, %d", st.RTCPIn, st.RTCPBytesIn, 2*len(b))
	}
}

// Accepted packets are counted by kind, as FreeSWITCH's media/dtmf/cng packet counts.
func TestPortCountsPacketKinds(t *testing.T) {
	p := newPort(t, nil, pcmu, 101)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	p.SetRemote(from, netip.AddrPort{})
	pkt := make([]byte, 12+160)
	inject := func(seq int, pt byte, n int) {
		pkt[0], pkt[1] = 0x80, pt
		binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		binary.BigEndian.PutUint32(pkt[8:], 0x77)
		p.InjectPacket(pkt[:12+n], from)
	}
	for i := range 10 {
		inject(i, 0, 160)
	}
	for i := 10; i < 13; i++ {
		inject(i, 101, 4)
	}
	inject(13, 13, 1)
	inject(14, 99, 160) // not negotiated: dropped, not counted
	st := p.Stats()
	if st.PacketsIn != 14 || st.MediaIn != 10 || st.MediaBytesIn != 1600 || st.EventsIn != 3 || st.CNIn != 1 {
		t.Errorf("in %d, media %d (%d bytes), events %d, CN %d; want 14, 10 (1600), 3, 1",
			st.PacketsIn, st.MediaIn, st.MediaBytesIn, st.EventsIn, st.CNIn)
	}
}
