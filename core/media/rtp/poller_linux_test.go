//go:build linux && (amd64 || arm64)

package rtp

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// TestKernelArrivalStamp: a packet that waits in the socket while its shard is busy elsewhere
// (here: while we hold the port's receive lock) keeps its kernel arrival time, so jitter figures
// and OnRelayed see the wait instead of hiding it, and so does the relay-delay histogram.
func TestKernelArrivalStamp(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	got := make(chan time.Duration, 1)
	la, err := ListenRTP(netip.MustParseAddr("127.0.0.1"), 0, RTPConfig{Clock: clk, RTCPInterval: -1,
		OnRelayed: func(at time.Time) {
			select {
			case got <- time.Since(at):
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, err := ListenRTP(netip.MustParseAddr("127.0.0.1"), 0, RTPConfig{Clock: clk, RTCPInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	if la.pl.shard == nil {
		t.Skip("no poll shards on this machine")
	}
	sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	phone, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer phone.Close()
	pcmu := media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, Ptime: 20 * time.Millisecond}
	if err := la.SetCodec(pcmu, 101); err != nil {
		t.Skip("PCMU not registered in this package's tests:", err)
	}
	lb.SetCodec(pcmu, 101)
	la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	lb.SetRemote(sink.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
	stop, err := media.Bridge(la, lb)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	// The kernel turns timestamping on for the machine from a work queue, so a fresh process's
	// first packets may be stamped when read rather than when they arrived: warm it up.
	if _, err := phone.WriteToUDPAddrPort(pkt, la.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		t.Fatal("warm-up packet not relayed")
	}
	time.Sleep(50 * time.Millisecond)
	before, _ := RelayDelays()
	pkt[3] = 1      // next sequence number
	la.injMu.Lock() // the shard cannot drain la until we let go
	if _, err := phone.WriteToUDPAddrPort(pkt, la.LocalAddr()); err != nil {
		la.injMu.Unlock()
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	la.injMu.Unlock()
	select {
	case d := <-got:
		if d < 35*time.Millisecond || d > 2*time.Second {
			t.Fatalf("relayed %v after arrival; want the 40 ms it waited in the socket", d)
		}
		// It waited at least 35 ms, so the histogram counted it above the 20 ms bound.
		after, sum := RelayDelays()
		var slow uint64
		for b, bound := range RelayDelayBounds {
			if bound > 20*time.Millisecond {
				slow += after[b] - before[b]
			}
		}
		slow += after[len(RelayDelayBounds)] - before[len(RelayDelayBounds)]
		if slow == 0 || sum < 35*time.Millisecond {
			t.Fatalf("relay-delay histogram: no relay over 20 ms counted (sum %v) for a %v relay", sum, d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("packet not relayed")
	}
}
