//go:build !(linux && amd64)

package main

import (
	"net"
	"net/netip"
	"time"
)

// mmsg is the portable stand-in for the Linux sendmmsg/recvmmsg batches: one datagram per call.
type mmsg struct {
	bufs [][]byte
	dst  []netip.AddrPort
	lens []int
}

func newMMsg(n, size int) *mmsg {
	m := &mmsg{bufs: make([][]byte, n), dst: make([]netip.AddrPort, n), lens: make([]int, n)}
	for i := range m.bufs {
		m.bufs[i] = make([]byte, size)
	}
	return m
}

func (m *mmsg) setDst(i int, to netip.AddrPort, n int) { m.dst[i], m.lens[i] = to, n }

func (m *mmsg) send(c *net.UDPConn, n int) {
	for i := range n {
		_, _ = c.WriteToUDPAddrPort(m.bufs[i][:m.lens[i]], m.dst[i])
	}
}

func (m *mmsg) recv(c *net.UDPConn) (int, error) {
	n, _, err := c.ReadFromUDPAddrPort(m.bufs[0][:cap(m.bufs[0])])
	if err != nil {
		return 0, err
	}
	m.lens[0] = n
	return 1, nil
}

func kernelStamps(*net.UDPConn) {}

func (m *mmsg) stamp(int) time.Time { return time.Time{} }

func kernelStamp([]byte) time.Time { return time.Time{} }

func (m *mmsg) packet(i int) []byte { return m.bufs[i][:m.lens[i]] }
