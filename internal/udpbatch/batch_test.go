package udpbatch

import (
	"net"
	"testing"
	"time"
)

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSendRecv sends a batch over loopback and reads it back with arrival stamps.
func TestSendRecv(t *testing.T) {
	tx, rx := listen(t), listen(t)
	KernelStamps(rx)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 8
	out := New(n, 32)
	for i := range n {
		out.Bufs[i][0] = byte(i)
		out.SetDst(i, to, 1+i)
	}
	before := time.Now()
	out.Send(tx, n)
	in := New(16, 64)
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	seen := map[byte]int{}
	for len(seen) < n {
		k, err := in.Recv(rx)
		if err != nil {
			t.Fatalf("recv after %d: %v", len(seen), err)
		}
		for i := range k {
			p := in.Packet(i)
			seen[p[0]] = len(p)
			if at := in.Stamp(i); !at.IsZero() && (at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second))) {
				t.Errorf("stamp %v not near now", at)
			}
		}
	}
	for i := range n {
		if seen[byte(i)] != 1+i {
			t.Errorf("datagram %d: length %d, want %d", i, seen[byte(i)], 1+i)
		}
	}
}
