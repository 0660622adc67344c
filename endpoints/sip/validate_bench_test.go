package sip

import (
	"net"
	"testing"
)

// BenchmarkUDPReadChecks is the per-datagram cost of the quick raw checks and header normalisation
// on an ordinary INVITE (what every UDP request pays before sipgo parses it).
func BenchmarkUDPReadChecks(b *testing.B) {
	msg := []byte("INVITE sip:9196@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc123;rport\r\n" +
		"From: \"Alice\" <sip:1000@127.0.0.1>;tag=a1\r\nTo: <sip:9196@127.0.0.1>\r\nCall-ID: bench-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:1000@127.0.0.1:5070>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 126\r\n\r\n" +
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := quickReject(msg, src); res != nil {
			b.Fatalf("rejected: %s", res)
		}
		normalizeHeaders(msg)
	}
}
