package rtp_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// TestManyPortsChurn runs many relayed pairs at once over real sockets (on Linux they share
// the poll shards) while other ports open and close under traffic: every packet sent to a live
// pair must arrive, and ports closed mid-stream must not disturb the others. goleak in
// TestMain then checks that the shards' goroutines end with their last port.
func TestManyPortsChurn(t *testing.T) {
	clk := media.NewSoftClock(2)
	defer clk.Close()
	const pairs, pkts = 40, 30
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	_ = sink.SetReadBuffer(1 << 20)
	phone, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer phone.Close()
	type pair struct{ a, b *rtp.RTPPort }
	var ps []pair
	for range pairs {
		a, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		a.SetCodec(pcmu, 101)
		b.SetCodec(pcmu, 101)
		a.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
		b.SetRemote(sink.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
		stop, err := media.Bridge(a, b)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		ps = append(ps, pair{a, b})
	}
	// Churn: ports opened, sent to and closed while the pairs relay.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		junk := make([]byte, 12+160)
		junk[0] = 0x80
		for {
			select {
			case <-done:
				return
			default:
			}
			p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
			if err != nil {
				t.Error(err)
				return
			}
			p.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
			_, _ = phone.WriteToUDPAddrPort(junk, p.LocalAddr())
			p.Close()
		}
	}()
	got := make(map[uint32]int)
	var mu sync.Mutex
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		buf := make([]byte, 1500)
		for {
			_ = sink.SetReadDeadline(time.Now().Add(time.Second))
			n, err := sink.Read(buf)
			if err != nil {
				return
			}
			if n >= 16 {
				mu.Lock()
				got[binary.BigEndian.Uint32(buf[12:16])]++
				mu.Unlock()
			}
		}
	}()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	for seq := 1; seq <= pkts; seq++ {
		for i, p := range ps {
			binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
			binary.BigEndian.PutUint32(pkt[8:], uint32(1000+i))
			binary.BigEndian.PutUint32(pkt[12:], uint32(i)) // payload: which pair
			if _, err := phone.WriteToUDPAddrPort(pkt, p.a.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	<-recvDone
	for i := range ps {
		if got[uint32(i)] != pkts {
			t.Errorf("pair %d: %d of %d packets relayed", i, got[uint32(i)], pkts)
		}
	}
	for _, p := range ps {
		p.a.Close()
		p.b.Close()
	}
}
