//go:build linux && amd64

package main

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// mmsg batches datagrams for one sendmmsg or recvmmsg call, so the load generator's own
// socket work stays small next to the engine it measures.
type mmsg struct {
	hdrs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet4
	bufs  [][]byte
}

type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

func newMMsg(n, size int) *mmsg {
	m := &mmsg{hdrs: make([]mmsghdr, n), iovs: make([]syscall.Iovec, n), names: make([]syscall.RawSockaddrInet4, n),
		bufs: make([][]byte, n)}
	for i := range n {
		m.bufs[i] = make([]byte, size)
		m.iovs[i].Base = &m.bufs[i][0]
		m.hdrs[i].hdr.Iov = &m.iovs[i]
		m.hdrs[i].hdr.Iovlen = 1
		m.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&m.names[i]))
	}
	return m
}

// setDst sets message i's destination and length (IPv4 only: the test runs on 127.0.0.1).
func (m *mmsg) setDst(i int, to netip.AddrPort, n int) {
	sa := &m.names[i]
	sa.Family = syscall.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(to.Port()>>8), byte(to.Port())
	sa.Addr = to.Addr().As4()
	m.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
	m.iovs[i].SetLen(n)
}

// send sends messages [0, n) on c, retrying partial sends.
func (m *mmsg) send(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	done := 0
	for done < n {
		_ = rc.Write(func(fd uintptr) bool {
			r, _, e := syscall.Syscall6(sysSendmmsg, fd, uintptr(unsafe.Pointer(&m.hdrs[done])), uintptr(n-done), 0, 0, 0)
			if e == syscall.EAGAIN {
				return false
			}
			if e != 0 {
				done = n // give up on this batch
				return true
			}
			done += int(r)
			return true
		})
	}
}

// recv blocks until at least one datagram is there and returns how many it read.
func (m *mmsg) recv(c *net.UDPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	for i := range m.hdrs {
		m.iovs[i].SetLen(len(m.bufs[i]))
		m.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
	}
	var got int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		r, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(len(m.hdrs)),
			syscall.MSG_DONTWAIT, 0, 0)
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 {
			rerr = e
			return true
		}
		got = int(r)
		return true
	})
	if err != nil {
		return 0, err
	}
	return got, rerr
}

// packet returns received message i.
func (m *mmsg) packet(i int) []byte { return m.bufs[i][:m.hdrs[i].n] }

const sysSendmmsg = 307 // linux/amd64; the syscall package predates it
