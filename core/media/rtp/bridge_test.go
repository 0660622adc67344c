package rtp_test

import (
	"net"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/pion/rtcp"
)

// TestBridgePipeToRTP joins a loopback pipe (L16) to an RTP leg (G.722 at 16 kHz): Bridge falls
// back to copying frames through both Streams, resampling 8 <-> 16 kHz on the way.
func TestBridgePipeToRTP(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	pa, pb := media.NewPipe(media.PipeConfig{Clock: clk})
	defer pa.Close()
	defer pb.Close()
	leg, phone := newPort(t, clk, g722, 101), newPort(t, clk, g722, 101)
	connect(leg, phone)
	if leg.Stream().Rate() != 16000 {
		t.Fatalf("G.722 stream rate %d", leg.Stream().Rate())
	}
	stop, err := media.Bridge(pb, leg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	hearTone(t, pa, phone)
	hearTone(t, phone, pa)
	// DTMF from the phone reaches the loopback side through the bridge.
	got := make(chan media.DTMF, 4)
	pa.OnDTMF(func(d media.DTMF) { got <- d })
	phone.SendDTMF(media.DTMF{Digit: '4', Duration: 100 * time.Millisecond})
	if d := waitDigits(t, got, 1)[0]; d.Digit != '4' {
		t.Fatalf("%+v", d)
	}
}

// TestCodecChangeMidCall switches a leg from PCMU to G.722 (re-INVITE) while an app streams.
func TestCodecChangeMidCall(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a, b := newPort(t, clk, pcmu, 0), newPort(t, clk, pcmu, 0)
	connect(a, b)
	hearTone(t, a, b)
	if err := a.SetCodec(g722, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.SetCodec(g722, 0); err != nil {
		t.Fatal(err)
	}
	// The streams keep their 8 kHz rate; the ports resample to the codec's 16 kHz.
	hearTone(t, a, b)
}

func TestRTCPSenderReports(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetCodec(pcmu, 0)
	phone := newRawPeer(t)
	rtcpSock, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer rtcpSock.Close()
	p.SetRemote(phone.addr(), rtcpSock.LocalAddr().(*net.UDPAddr).AddrPort())
	go media.Play(t.Context(), p.Stream(), audio.NewSilence(8000, 2000, 10))
	buf := make([]byte, 1500)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		rtcpSock.SetReadDeadline(deadline)
		n, _, err := rtcpSock.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if sr, ok := pkts[0].(*rtcp.SenderReport); ok && sr.PacketCount > 0 {
			return
		}
	}
	t.Fatal("no sender report with a packet count")
}

// TestRelayFollowsCodecChange: leg B re-negotiates PCMU -> PCMA mid-bridge; the relay rebuilds
// its link (now transcoding) and phone B, also switched, still hears phone A.
func TestRelayFollowsCodecChange(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	pa, la := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	lb, pb := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(pa, la)
	connect(lb, pb)
	stop, _ := media.Bridge(la, lb)
	defer stop()
	hearTone(t, pa, pb)
	lb.SetCodec(pcma, 101)
	pb.SetCodec(pcma, 101)
	if s := la.String(); !contains(s, "PCMU->PCMA") {
		t.Fatalf("link not rebuilt: %s", s)
	}
	hearTone(t, pa, pb)
	hearTone(t, pb, pa)
}
