package rtp_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g722"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

var g722 = media.CodecInfo{Name: "G722", PT: 9, ClockRate: 8000, SampleRate: 16000, Ptime: 20 * time.Millisecond}

// relayRig is leg A bridged to leg B by packet relay; packets are injected into leg A as if
// they came from a phone, and leg B sends them to a sink socket (a real sendto per packet).
type relayRig struct {
	la, lb *rtp.RTPPort
	phone  netip.AddrPort
	enc    *srtp.Context // the phone's encrypt context, nil for plain RTP
	seq    uint16
	hdr    pionrtp.Header
	pkts   [][]byte
	stop   func()
	sink   *net.UDPConn
}

func newRelayRig(tb testing.TB, suite string) *relayRig {
	clk := media.NewSoftClock(1)
	tb.Cleanup(clk.Close)
	r := &relayRig{}
	var err error
	if r.la, err = rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk}); err != nil {
		tb.Fatal(err)
	}
	if r.lb, err = rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk}); err != nil {
		tb.Fatal(err)
	}
	r.sink, _ = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	r.phone = netip.MustParseAddrPort("127.0.0.1:7")
	r.la.SetCodec(pcmu, 101)
	r.lb.SetCodec(pcmu, 101)
	r.la.SetRemote(r.phone, netip.AddrPort{})
	r.lb.SetRemote(r.sink.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
	if suite != "" {
		s, _ := rtp.LookupSRTPSuite(suite)
		phoneKey, _ := rtp.NewSRTPKey(s)
		aKey, _ := rtp.NewSRTPKey(s)
		bKey, _ := rtp.NewSRTPKey(s)
		sinkKey, _ := rtp.NewSRTPKey(s)
		r.la.SetSRTP(&aKey, &phoneKey)
		r.lb.SetSRTP(&bKey, &sinkKey)
		r.enc, _ = phoneKey.NewContext(false)
	}
	if r.stop, err = media.Bridge(r.la, r.lb); err != nil {
		tb.Fatal(err)
	}
	for range 256 {
		r.pkts = append(r.pkts, make([]byte, 0, 1500))
	}
	r.hdr = pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 0x1234}
	tb.Cleanup(func() { r.stop(); r.la.Close(); r.lb.Close(); r.sink.Close() })
	return r
}

// fill prepares the next n packets (encrypting them as the phone would).
func (r *relayRig) fill(n int) {
	payload := make([]byte, 160)
	for i := range n {
		r.seq++
		r.hdr.SequenceNumber, r.hdr.Timestamp = r.seq, uint32(r.seq)*160
		b, _ := r.hdr.MarshalTo(r.pkts[i][:cap(r.pkts[i])])
		p := append(r.pkts[i][:b], payload...)
		if r.enc != nil {
			p, _ = r.enc.EncryptRTP(p[:cap(p)], p, nil)
		}
		r.pkts[i] = p
	}
}

var relayCases = []struct{ name, suite string }{
	{"rtp", ""},
	{"srtp-aes-cm-128-80", "AES_CM_128_HMAC_SHA1_80"},
	{"srtp-aead-aes-128-gcm", "AEAD_AES_128_GCM"},
}

// BenchmarkRelay measures one relayed packet: (decrypt) -> rewrite SSRC/seq/ts -> (encrypt) ->
// sendto on loopback.
func BenchmarkRelay(b *testing.B) {
	for _, tc := range relayCases {
		b.Run(tc.name, func(b *testing.B) {
			r := newRelayRig(b, tc.suite)
			const batch = 256
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				n := min(batch, b.N-i)
				b.StopTimer()
				r.fill(n)
				b.StartTimer()
				for k := range n {
					r.la.InjectPacket(r.pkts[k], r.phone)
				}
			}
			b.StopTimer()
			if st := r.lb.Stats(); st.PacketsOut == 0 {
				b.Fatalf("nothing relayed: %+v / %+v", r.la.Stats(), st)
			}
		})
	}
}

func TestRelayNoAlloc(t *testing.T) {
	for _, tc := range relayCases {
		r := newRelayRig(t, tc.suite)
		r.fill(256)
		k := 0
		a := testing.AllocsPerRun(200, func() {
			r.la.InjectPacket(r.pkts[k], r.phone)
			k++
		})
		if a != 0 && !raceOn {
			t.Errorf("%s: %v allocs per relayed packet", tc.name, a)
		}
		if st := r.lb.Stats(); st.PacketsOut < 200 || r.la.Stats().DecryptErrors != 0 {
			t.Errorf("%s: relayed %d, decrypt errors %d", tc.name, st.PacketsOut, r.la.Stats().DecryptErrors)
		}
	}
}

var transcodeCases = []struct {
	name     string
	from, to media.CodecInfo
	in       int
}{
	{"pcmu-pcma", pcmu, pcma, 160},
	{"pcmu-g722", pcmu, g722, 160},
	{"g722-pcmu", g722, pcmu, 160},
}

func BenchmarkTranscode(b *testing.B) {
	for _, tc := range transcodeCases {
		b.Run(tc.name, func(b *testing.B) {
			t, err := media.NewTranscoder(tc.from, tc.to)
			if err != nil {
				b.Fatal(err)
			}
			src, dst := make([]byte, tc.in), make([]byte, 1500)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.Transcode(dst, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTranscodeNoAllocAndSize(t *testing.T) {
	for _, tc := range transcodeCases {
		tr, err := media.NewTranscoder(tc.from, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		src, dst := make([]byte, tc.in), make([]byte, 1500)
		n, err := tr.Transcode(dst, src)
		if err != nil || n != 160 {
			t.Fatalf("%s: %d bytes, %v", tc.name, n, err)
		}
		if a := testing.AllocsPerRun(100, func() { tr.Transcode(dst, src) }); a != 0 && !raceOn {
			t.Errorf("%s: %v allocs", tc.name, a)
		}
	}
}

func BenchmarkJitter(b *testing.B) {
	j := rtp.NewJitterBuffer(rtp.JitterConfig{})
	pay := make([]byte, 160)
	dst := make([]byte, 0, 400)
	now := time.Unix(0, 0)
	j.Push(0, 0, 1, false, pay, now) // the first packet allocates the slots (once per buffer)
	j.Pop(dst)
	seq := uint16(1)
	b.ReportAllocs()
	for b.Loop() {
		j.Push(seq, uint32(seq)*160, 1, false, pay, now)
		j.Pop(dst)
		now = now.Add(20 * time.Millisecond)
		seq++
	}
}
