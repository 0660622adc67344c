//go:build !(linux && amd64)

package udpbatch

import (
	"net"
	"net/netip"
	"time"
)

// Batch is the portable stand-in for the Linux sendmmsg/recvmmsg batches: one datagram per call.
type Batch struct {
	Bufs [][]byte
	dst  []netip.AddrPort
	lens []int
}

func New(n, size int) *Batch {
	m := &Batch{Bufs: make([][]byte, n), dst: make([]netip.AddrPort, n), lens: make([]int, n)}
	for i := range m.Bufs {
		m.Bufs[i] = make([]byte, size)
	}
	return m
}

func (m *Batch) SetDst(i int, to netip.AddrPort, n int) { m.dst[i], m.lens[i] = to, n }

func (m *Batch) Send(c *net.UDPConn, n int) {
	for i := range n {
		_, _ = c.WriteToUDPAddrPort(m.Bufs[i][:m.lens[i]], m.dst[i])
	}
}

func (m *Batch) Recv(c *net.UDPConn) (int, error) {
	n, _, err := c.ReadFromUDPAddrPort(m.Bufs[0][:cap(m.Bufs[0])])
	if err != nil {
		return 0, err
	}
	m.lens[0] = n
	return 1, nil
}

func (m *Batch) Stamp(int) time.Time { return time.Time{} }

func (m *Batch) Packet(i int) []byte { return m.Bufs[i][:m.lens[i]] }

// Buffers sets c's receive and send buffers to n bytes, as far as the system allows.
func Buffers(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
}
