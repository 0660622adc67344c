package webrtc_test

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/webrtc"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

var pcmu = media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: 20 * time.Millisecond}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dtlsPair keys two goswitch sessions against each other over loopback (a is the client),
// as a call's handshake with a browser does.
func dtlsPair(tb testing.TB, pa, pb *rtp.RTPPort) (*webrtc.Session, *webrtc.Session) {
	sa, err := webrtc.New(pa, webrtc.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	sb, err := webrtc.New(pb, webrtc.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	pa.SetRemote(pb.LocalAddr(), pb.LocalAddr())
	pb.SetRemote(pa.LocalAddr(), pa.LocalAddr())
	sa.SelectForTest(pb.LocalAddr())
	sb.SelectForTest(pa.LocalAddr())
	fa, fb := sa.Local().Fingerprint, sb.Local().Fingerprint
	if err := sb.Start(webrtc.Remote{Fingerprint: fa, Setup: "active"}, false); err != nil {
		tb.Fatal(err)
	}
	if err := sa.Start(webrtc.Remote{Fingerprint: fb, Setup: "passive"}, true); err != nil {
		tb.Fatal(err)
	}
	for _, s := range []*webrtc.Session{sa, sb} {
		select {
		case <-s.Done():
			if err := s.Err(); err != nil {
				tb.Fatalf("handshake: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Fatal("handshake timed out")
		}
	}
	return sa, sb
}

func listen(tb testing.TB) *rtp.RTPPort {
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{RTCPInterval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkDTLSHandshake is one call's DTLS-SRTP setup: ECDSA P-256 handshake with extended
// master secret, fingerprint check, key export into the ports' SRTP contexts (both ends run
// here, so cpu-ms/op is both sides' CPU).
func BenchmarkDTLSHandshake(b *testing.B) {
	pa, pb := listen(b), listen(b)
	b.ReportAllocs()
	cpu0, t0 := cpuTime(), time.Now()
	for range b.N {
		sa, sb := dtlsPair(b, pa, pb)
		sa.Close()
		sb.Close()
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "ms/handshake")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// webrtcRig is a WebRTC leg (SRTP keyed by a real DTLS handshake with a stand-in browser
// session) bridged by relay to a plain RTP leg, as a browser calling a SIP phone is.
type webrtcRig struct {
	web, plain *rtp.RTPPort
	browser    netip.AddrPort
	phone      netip.AddrPort
	enc        *srtp.Context // the browser's encrypt context (its exported local key)
	hdr        pionrtp.Header
	seq        uint16
	pkts       [][]byte
}

func newWebRTCRig(tb testing.TB) *webrtcRig {
	web, brPort, plain := listen(tb), listen(tb), listen(tb)
	_, br := dtlsPair(tb, web, brPort)
	bl, _ := br.KeysForTest()
	enc, err := bl.NewContext(false)
	if err != nil {
		tb.Fatal(err)
	}
	sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	bsink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	tb.Cleanup(func() { sink.Close(); bsink.Close() })
	// Once keyed, the browser's side is a bare socket, as the phone's is (and as in core/media's
	// BenchmarkRelay): the stand-in's own SRTP receive must not compete for the CPU.
	r := &webrtcRig{web: web, plain: plain, browser: bsink.LocalAddr().(*net.UDPAddr).AddrPort(),
		phone: sink.LocalAddr().(*net.UDPAddr).AddrPort(), enc: enc}
	web.Latch(r.browser)
	web.SetCodec(pcmu, 101)
	plain.SetCodec(pcmu, 101)
	plain.SetRemote(r.phone, netip.AddrPort{})
	stop, err := media.Bridge(web, plain)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	r.hdr = pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 0x4321}
	for range 256 {
		r.pkts = append(r.pkts, make([]byte, 0, 1500))
	}
	return r
}

func (r *webrtcRig) fill(n int, encrypt bool) {
	payload := make([]byte, 160)
	for i := range n {
		r.seq++
		r.hdr.SequenceNumber, r.hdr.Timestamp = r.seq, uint32(r.seq)*160
		k, _ := r.hdr.MarshalTo(r.pkts[i][:cap(r.pkts[i])])
		p := append(r.pkts[i][:k], payload...)
		if encrypt {
			p, _ = r.enc.EncryptRTP(p[:cap(p)], p, nil)
		}
		r.pkts[i] = p
	}
}

// BenchmarkWebRTCRelay is one relayed packet between a WebRTC (DTLS-keyed SRTP) leg and a plain
// RTP leg: browser->phone decrypts, phone->browser encrypts; both end in a real sendto. Compare
// with core/media's BenchmarkRelay/rtp (target: at most 1.3x).
func BenchmarkWebRTCRelay(b *testing.B) {
	for _, dir := range []string{"browser-to-phone", "phone-to-browser"} {
		b.Run(dir, func(b *testing.B) {
			r := newWebRTCRig(b)
			in, from, enc := r.web, r.browser, true
			if dir == "phone-to-browser" {
				in, from, enc = r.plain, r.phone, false
			}
			const batch = 256
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				n := min(batch, b.N-i)
				b.StopTimer()
				r.fill(n, enc)
				b.StartTimer()
				for k := range n {
					in.InjectPacket(r.pkts[k], from)
				}
			}
			b.StopTimer()
			out := r.plain
			if dir == "phone-to-browser" {
				out = r.web
			}
			if st := out.Stats(); st.PacketsOut == 0 || in.Stats().DecryptErrors != 0 {
				b.Fatalf("relayed %d, decrypt errors %d", st.PacketsOut, in.Stats().DecryptErrors)
			}
		})
	}
}

// The WebRTC relay path allocates nothing per packet, as the plain and SDES ones.
func TestWebRTCRelayNoAlloc(t *testing.T) {
	r := newWebRTCRig(t)
	r.fill(256, true)
	k := 0
	a := testing.AllocsPerRun(200, func() {
		r.web.InjectPacket(r.pkts[k], r.browser)
		k++
	})
	if a != 0 && !raceEnabled {
		t.Errorf("%v allocs per relayed packet", a)
	}
	if st := r.plain.Stats(); st.PacketsOut < 200 || r.web.Stats().DecryptErrors != 0 {
		t.Errorf("relayed %d, decrypt errors %d", st.PacketsOut, r.web.Stats().DecryptErrors)
	}
}
