package rtp_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
)

var lo = netip.MustParseAddr("127.0.0.1")

var netipZero netip.AddrPort

var testEpoch = time.Unix(1700000000, 0)

var pcmu = media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, Ptime: 20 * time.Millisecond}
var pcma = media.CodecInfo{Name: "PCMA", PT: 8, ClockRate: 8000, Ptime: 20 * time.Millisecond}

func newPort(t *testing.T, clk media.Clock, ci media.CodecInfo, te uint8) *rtp.RTPPort {
	t.Helper()
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.LocalAddr().Port()%2 != 0 {
		t.Fatalf("odd RTP port %v", p.LocalAddr())
	}
	if err := p.SetCodec(ci, te); err != nil {
		t.Fatal(err)
	}
	return p
}

func connect(a, b *rtp.RTPPort) {
	a.SetRemote(b.LocalAddr(), netip.AddrPort{})
	b.SetRemote(a.LocalAddr(), netip.AddrPort{})
}

func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return e
}

// hearTone plays a tone into from's stream and waits until to's stream hears it.
func hearTone(t *testing.T, from, to media.Port) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g, _ := audio.NewToneGenerator("%(1000,0,1000);loops=-1", from.Stream().Rate())
		_ = media.Play(ctx, from.Stream(), g)
	}()
	defer wg.Wait()
	defer cancel()
	var f media.Frame
	for {
		if err := to.Stream().ReadFrame(ctx, &f); err != nil {
			t.Fatalf("never heard the tone: %v", err)
		}
		if f.Flags&media.FrameSilence == 0 && energy(f.PCM) > 1e6 {
			return
		}
	}
}

func TestRTPPortsTalk(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	a := newPort(t, clk, pcmu, 101)
	b := newPort(t, clk, pcmu, 101)
	connect(a, b)
	hearTone(t, a, b)
	hearTone(t, b, a)
	if st := b.Stats(); st.PacketsIn == 0 || st.Jitter.Played == 0 {
		t.Fatalf("stats %+v", st)
	}
	if s := a.String(); s == "" {
		t.Fatal("empty String")
	}
}

func TestRTPPortG711Transcode(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	// Phone A (PCMU) <-> leg A (PCMU) == bridge == leg B (PCMA) <-> phone B (PCMA).
	pa, la := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	lb, pb := newPort(t, clk, pcma, 0), newPort(t, clk, pcma, 0)
	connect(pa, la)
	connect(lb, pb)
	stop, err := media.Bridge(la, lb)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if s := la.String(); !contains(s, "relay(PCMU->PCMA(direct))") {
		t.Errorf("pipeline %q", s)
	}
	hearTone(t, pa, pb)
	hearTone(t, pb, pa)
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (func() bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
		return false
	})()
}

// rawPeer is a far end built from a bare UDP socket, to see exactly what a port sends.
type rawPeer struct {
	conn *net.UDPConn
}

func newRawPeer(t *testing.T) *rawPeer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{c}
}

func (r *rawPeer) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *rawPeer) send(t *testing.T, to netip.AddrPort, h pionrtp.Header, payload []byte) {
	t.Helper()
	pkt := pionrtp.Packet{Header: h, Payload: payload}
	b, _ := pkt.Marshal()
	if _, err := r.conn.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

func (r *rawPeer) recv(t *testing.T, timeout time.Duration) (*pionrtp.Packet, bool) {
	t.Helper()
	buf := make([]byte, 2000)
	r.conn.SetReadDeadline(time.Now().Add(timeout))
	n, _, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, false
	}
	var p pionrtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return &p, true
}

func TestRelayRewritesAndLatches(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	la, lb := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	phoneA, phoneB := newRawPeer(t), newRawPeer(t)
	// The SDP said phone A is somewhere else; latching must learn its real address.
	la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	lb.SetRemote(phoneB.addr(), netip.AddrPort{})
	stop, err := media.Bridge(la, lb)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	payload := make([]byte, 160)
	var prev *pionrtp.Packet
	for i, src := range []struct {
		ssrc uint32
		seq  uint16
		ts   uint32
	}{{111, 10, 1000}, {111, 11, 1160}, {111, 12, 1320}, {222, 500, 90000}, {222, 501, 90160}} {
		phoneA.send(t, la.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 0, SSRC: src.ssrc, SequenceNumber: src.seq, Timestamp: src.ts}, payload)
		p, ok := phoneB.recv(t, 2*time.Second)
		if !ok {
			t.Fatalf("packet %d not relayed", i)
		}
		if prev != nil {
			if p.SSRC != prev.SSRC {
				t.Errorf("SSRC changed %x -> %x", prev.SSRC, p.SSRC)
			}
			if p.SequenceNumber != prev.SequenceNumber+1 {
				t.Errorf("seq %d after %d", p.SequenceNumber, prev.SequenceNumber)
			}
			if p.Timestamp != prev.Timestamp+160 {
				t.Errorf("packet %d: ts %d after %d (seq %d after %d)", i, p.Timestamp, prev.Timestamp, p.SequenceNumber, prev.SequenceNumber)
			}
			if (i == 3) != p.Marker {
				t.Errorf("packet %d marker %v", i, p.Marker)
			}
		}
		prev = p
	}
	if la.Remote() != phoneA.addr() {
		t.Errorf("did not latch: %v vs %v", la.Remote(), phoneA.addr())
	}
	// Once latched, packets from a stranger are ignored.
	stranger := newRawPeer(t)
	stranger.send(t, la.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 9, SequenceNumber: 1}, payload)
	if _, ok := phoneB.recv(t, 200*time.Millisecond); ok {
		t.Error("stranger's packet relayed")
	}
	// Replies from phone B reach phone A at its latched address.
	phoneB.send(t, lb.LocalAddr(), pionrtp.Header{Version: 2, PayloadType: 0, SSRC: 5, SequenceNumber: 1}, payload)
	if _, ok := phoneA.recv(t, 2*time.Second); !ok {
		t.Error("reverse direction not relayed to latched address")
	}
}

func TestRTPTimeout(t *testing.T) {
	fired := make(chan struct{})
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Timeout: 300 * time.Millisecond, OnTimeout: func() { close(fired) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetCodec(pcmu, 0)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("MEDIA_TIMEOUT never fired")
	}
}

func TestAllocator(t *testing.T) {
	// Find a free region by binding a probe first.
	probe, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	base := int(probe.LocalAddr().Port())
	probe.Close()
	a := rtp.NewPortAllocator(lo, base, base+5)
	a.Quarantine = time.Hour
	var got []*rtp.RTPPort
	for {
		p, err := a.Allocate(rtp.RTPConfig{})
		if err != nil {
			break
		}
		if p.LocalAddr().Port()%2 != 0 || p.LocalRTCPAddr().Port() != p.LocalAddr().Port()+1 {
			t.Errorf("bad pair %v", p.LocalAddr())
		}
		got = append(got, p)
	}
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("allocated %d pairs from a 3-pair range", len(got))
	}
	got[0].Close()
	if _, err := a.Allocate(rtp.RTPConfig{}); err == nil {
		t.Error("quarantined port handed out again")
	}
	for _, p := range got[1:] {
		p.Close()
	}
	if a.InUse() != 0 {
		t.Errorf("in use %d", a.InUse())
	}
}

// TestReconfigureUnderTraffic churns codec, direction, DTMF and SRTP keys on a bridged call while
// both ends play, then settles on one configuration and checks that media still flows both ways
// through the SRTP side and that no packet fails to decrypt once the keys agree.
func TestReconfigureUnderTraffic(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	pa, la := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	lb, pb := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(pa, la)
	connect(lb, pb)
	stop, _ := media.Bridge(la, lb)
	defer stop()
	play, endPlay := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer endPlay()
	for _, p := range []*rtp.RTPPort{pa, pb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, _ := audio.NewToneGenerator("%(1000,0,700);loops=-1", 8000)
			media.Play(play, p.Stream(), g)
		}()
	}
	suite, ok := rtp.LookupSRTPSuite("AEAD_AES_128_GCM")
	if !ok {
		t.Fatal("no AEAD_AES_128_GCM")
	}
	rekey := func() {
		t.Helper()
		k1, err1 := rtp.NewSRTPKey(suite)
		k2, err2 := rtp.NewSRTPKey(suite)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if err := lb.SetSRTP(&k1, &k2); err != nil {
			t.Fatal(err)
		}
		if err := pb.SetSRTP(&k2, &k1); err != nil {
			t.Fatal(err)
		}
	}
	setCodec := func(ci media.CodecInfo) {
		t.Helper()
		if err := lb.SetCodec(ci, 101); err != nil {
			t.Fatal(err)
		}
		if err := pb.SetCodec(ci, 101); err != nil {
			t.Fatal(err)
		}
	}
	churn := time.Now().Add(400 * time.Millisecond)
	for i := 0; time.Now().Before(churn); i++ {
		setCodec([]media.CodecInfo{pcmu, pcma}[i%2])
		la.SetDirection([]media.Direction{media.SendRecv, media.SendOnly}[i%2])
		if err := pa.SendDTMF(media.DTMF{Digit: '1', Duration: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		rekey()
		_ = la.String()
		_ = lb.Stats()
		time.Sleep(15 * time.Millisecond) // paces the churn; nothing waits on it
	}
	// Settle, then media must reach both ends again: pa's tone decrypted on pb, pb's on lb and
	// relayed to pa.
	setCodec(pcmu)
	la.SetDirection(media.SendRecv)
	rekey()
	flows := func(n uint64) {
		t.Helper()
		a0, b0 := pa.Stats().MediaIn, pb.Stats().MediaIn
		for deadline := time.Now().Add(5 * time.Second); pa.Stats().MediaIn < a0+n || pb.Stats().MediaIn < b0+n; {
			if time.Now().After(deadline) {
				t.Fatalf("media stopped after the churn: pa %d -> %d, pb %d -> %d packets",
					a0, pa.Stats().MediaIn, b0, pb.Stats().MediaIn)
			}
			time.Sleep(5 * time.Millisecond) // polls a counter
		}
	}
	flows(5) // packets sent under the last keys have arrived
	decLB, decPB := lb.Stats().DecryptErrors, pb.Stats().DecryptErrors
	flows(25)
	if d := lb.Stats().DecryptErrors - decLB; d != 0 {
		t.Errorf("lb: %d decrypt errors with agreed keys", d)
	}
	if d := pb.Stats().DecryptErrors - decPB; d != 0 {
		t.Errorf("pb: %d decrypt errors with agreed keys", d)
	}
}
