package rtp_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// TestRelaySocketPath relays real datagrams (phone -> leg A socket -> leg B -> sink), so the
// reader goroutine's receive path is covered, not only InjectPacket: every packet must arrive,
// in order, and the engine must not allocate per packet.
func TestRelaySocketPath(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	la, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	phone, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer phone.Close()
	sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	la.SetCodec(pcmu, 101)
	lb.SetCodec(pcmu, 101)
	la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{}) // latched from the phone
	lb.SetRemote(sink.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
	stop, err := media.Bridge(la, lb)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	const n = 400
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	binary.BigEndian.PutUint32(pkt[8:], 0x55)
	got := make(chan int, 1)
	go func() {
		buf := make([]byte, 1500)
		k := 0
		var last uint16
		for k < n {
			_ = sink.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, err := sink.Read(buf)
			if err != nil {
				break
			}
			seq := binary.BigEndian.Uint16(buf[2:])
			if k > 0 && seq != last+1 {
				t.Errorf("packet %d: seq %d after %d", k, seq, last)
			}
			last = seq
			if m != len(pkt) {
				t.Errorf("packet %d: %d bytes", k, m)
			}
			k++
		}
		got <- k
	}()
	dst := la.LocalAddr()
	send := func(i int) {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i)*160)
		if _, err := phone.WriteToUDPAddrPort(pkt, dst); err != nil {
			t.Fatal(err)
		}
	}
	send(0) // latch, warm up
	time.Sleep(20 * time.Millisecond)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 1; i < n; i++ {
		send(i)
		if i%4 == 0 {
			time.Sleep(time.Millisecond) // a few back-to-back packets, then a pause
		}
	}
	k := <-got
	runtime.ReadMemStats(&m1)
	if k != n {
		t.Fatalf("relayed %d of %d packets", k, n)
	}
	t.Logf("%d allocations for %d relayed packets", m1.Mallocs-m0.Mallocs, n)
	// The test's own goroutines (sender, sink reader, sleeps) allocate a little; the relay path
	// itself must not: allow far less than one allocation per packet.
	if allocs := m1.Mallocs - m0.Mallocs; allocs > n/10 && !raceOn {
		t.Errorf("%d allocations for %d relayed packets", allocs, n)
	}
}

// BenchmarkRelaySocket is BenchmarkRelay/rtp over the real receive path: a phone socket sends
// to leg A, leg A's reader relays through leg B to a sink that drains it. Besides ns/op it
// reports the process CPU time per relayed packet (cpu-ns/pkt: phone, engine and sink
// together), which is what a loaded machine pays.
func BenchmarkRelaySocket(b *testing.B) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	la, _ := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
	lb, _ := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: clk, RTCPInterval: -1})
	defer la.Close()
	defer lb.Close()
	phone, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer phone.Close()
	sink, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	_ = sink.SetReadBuffer(4 << 20)
	la.SetCodec(pcmu, 101)
	lb.SetCodec(pcmu, 101)
	la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{})
	lb.SetRemote(sink.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
	stop, _ := media.Bridge(la, lb)
	defer stop()
	var got atomic.Int64
	var want atomic.Int64
	want.Store(1)
	done := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
			if got.Add(1) == want.Load() {
				done <- struct{}{}
			}
		}
	}()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	dst := la.LocalAddr()
	send := func(i int) {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i)*160)
		_, _ = phone.WriteToUDPAddrPort(pkt, dst)
	}
	send(0)
	<-done
	lost := time.NewTimer(time.Hour)
	defer lost.Stop()
	c0 := cpuNow()
	b.ReportAllocs()
	b.ResetTimer()
	// Bursts of 8 packets, then wait until the sink has them all (a lost packet ends the
	// wait after 100 ms).
	for i := 0; i < b.N; i += 8 {
		k := min(8, b.N-i)
		want.Add(int64(k))
		for j := range k {
			send(i + j + 1)
		}
		lost.Reset(100 * time.Millisecond)
		select {
		case <-done:
		case <-lost.C:
			want.Store(got.Load() + 1<<40) // give up on this burst
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/pkt")
	b.ReportMetric(float64(got.Load()-1)/float64(b.N), "delivered")
}

func cpuNow() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
