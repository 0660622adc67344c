package rtp_test

import (
	"net/netip"
	"testing"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
)

func rtpBytes(h pionrtp.Header, payload []byte) []byte {
	b, _ := (&pionrtp.Packet{Header: h, Payload: payload}).Marshal()
	return b
}

// FuzzIngest feeds arbitrary datagrams to the RTP ingest path of a terminating port and of a
// relaying port (both with telephone-event 101): nothing may panic, and a digit, if reported,
// must be a DTMF key.
func FuzzIngest(f *testing.F) {
	f.Add(rtpBytes(pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 1}, make([]byte, 160)))
	f.Add(rtpBytes(pionrtp.Header{Version: 2, PayloadType: 101, Marker: true, SequenceNumber: 2, Timestamp: 320, SSRC: 1}, []byte{1, 0x8a, 0x03, 0x20}))
	f.Add(rtpBytes(pionrtp.Header{Version: 2, PayloadType: 13, SequenceNumber: 3, Timestamp: 480, SSRC: 1}, []byte{40}))
	f.Add(rtpBytes(pionrtp.Header{Version: 2, Padding: true, PayloadType: 0, SequenceNumber: 4, SSRC: 1, CSRC: []uint32{5}}, []byte{1, 2, 3, 3}))
	f.Add(rtpBytes(pionrtp.Header{Version: 2, Extension: true, ExtensionProfile: 0xBEDE, PayloadType: 0, SequenceNumber: 5, SSRC: 1}, []byte{1}))
	f.Add([]byte{0x80, 0xc8, 0, 1})
	clk := media.NewFakeClock(testEpoch)
	term, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, InbandDTMF: true})
	if err != nil {
		f.Fatal(err)
	}
	defer term.Close()
	term.SetCodec(pcmu, 101)
	term.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	term.Stream()
	la, _ := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk})
	lb, _ := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk})
	defer la.Close()
	defer lb.Close()
	la.SetCodec(pcmu, 101)
	lb.SetCodec(pcma, 0)
	la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	lb.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	stop, _ := media.Bridge(la, lb)
	defer stop()
	bad := make(chan media.DTMF, 100)
	check := func(d media.DTMF) {
		if _, ok := rtp.DigitEvent(d.Digit); !ok {
			select {
			case bad <- d:
			default:
			}
		}
	}
	term.OnDTMF(check)
	la.OnDTMF(check)
	from := netip.MustParseAddrPort("127.0.0.1:5004")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p2 := append([]byte(nil), pkt...)
		term.InjectPacket(pkt, from)
		la.InjectPacket(p2, from)
		clk.Advance(20e6)
		select {
		case d := <-bad:
			t.Fatalf("bogus digit %+v", d)
		default:
		}
	})
}
