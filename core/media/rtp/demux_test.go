package rtp_test

import (
	"net/netip"
	"testing"

	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtcp "github.com/pion/rtcp"
)

// STUN and DTLS datagrams (RFC 7983 first bytes) go to the demux hook when one is set and are
// dropped otherwise; with rtcp-mux, RTCP on the RTP socket is taken as RTCP.
func TestDemuxAndRTCPMux(t *testing.T) {
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{RTCPInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	p.SetRemote(from, from)
	stunPkt := append([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, make([]byte, 12)...)
	dtlsPkt := append([]byte{22, 0xfe, 0xfd}, make([]byte, 20)...)

	p.InjectPacket(append([]byte(nil), stunPkt...), from)
	if st := p.Stats(); st.Dropped != 1 {
		t.Fatalf("STUN without a hook: dropped %d, want 1", st.Dropped)
	}
	var got [][]byte
	p.SetDemux(func(pkt []byte, f netip.AddrPort) {
		if f != from {
			t.Errorf("hook got source %s", f)
		}
		got = append(got, append([]byte(nil), pkt...))
	})
	p.InjectPacket(append([]byte(nil), stunPkt...), from)
	p.InjectPacket(append([]byte(nil), dtlsPkt...), from)
	p.InjectPacket([]byte{70, 1, 2, 3}, from) // 64-127: neither (TURN channel), dropped
	if len(got) != 2 || got[0][0] != 0 || got[1][0] != 22 {
		t.Fatalf("hook got %d datagrams", len(got))
	}
	if st := p.Stats(); st.Dropped != 2 || st.PacketsIn != 0 {
		t.Fatalf("after hook: %+v", st)
	}

	rr, _ := (&pionrtcp.ReceiverReport{SSRC: 9}).Marshal()
	p.InjectPacket(append([]byte(nil), rr...), from)
	if st := p.Stats(); st.RTCPIn != 0 || st.Dropped != 3 {
		t.Fatalf("RTCP on the RTP port without rtcp-mux: %+v", st)
	}
	p.SetRTCPMux(true)
	p.InjectPacket(append([]byte(nil), rr...), from)
	if st := p.Stats(); st.RTCPIn != 1 {
		t.Fatalf("rtcp-mux: RTCPIn %d", st.RTCPIn)
	}

	// Latch selects the ICE pair: RTP from elsewhere is then refused.
	sel := netip.MustParseAddrPort("127.0.0.1:40002")
	p.Latch(sel)
	if p.Remote() != sel {
		t.Fatalf("remote %s after Latch", p.Remote())
	}
}
