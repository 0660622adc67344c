//go:build linux && amd64

package udpbatch

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// Batch batches datagrams for one sendmmsg or recvmmsg call, so the load generator's own
// socket work stays small next to the engine it measures.
type Batch struct {
	hdrs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet4
	Bufs  [][]byte
	ctrl  [][64]byte // SCM_TIMESTAMPNS: when the kernel queued the datagram on our socket
}

type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

func New(n, size int) *Batch {
	m := &Batch{hdrs: make([]mmsghdr, n), iovs: make([]syscall.Iovec, n), names: make([]syscall.RawSockaddrInet4, n),
		Bufs: make([][]byte, n), ctrl: make([][64]byte, n)}
	for i := range n {
		m.Bufs[i] = make([]byte, size)
		m.iovs[i].Base = &m.Bufs[i][0]
		m.hdrs[i].hdr.Iov = &m.iovs[i]
		m.hdrs[i].hdr.Iovlen = 1
		m.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&m.names[i]))
	}
	return m
}

// SetDst sets message i's destination and length (IPv4 only: the test runs on 127.0.0.1).
func (m *Batch) SetDst(i int, to netip.AddrPort, n int) {
	sa := &m.names[i]
	sa.Family = syscall.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(to.Port()>>8), byte(to.Port())
	sa.Addr = to.Addr().As4()
	m.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
	m.iovs[i].SetLen(n)
}

// Send sends messages [0, n) on c, retrying partial sends.
func (m *Batch) Send(c *net.UDPConn, n int) {
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

// Recv blocks until at least one datagram is there and returns how many it read.
func (m *Batch) Recv(c *net.UDPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	for i := range m.hdrs {
		m.iovs[i].SetLen(len(m.Bufs[i]))
		m.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
		m.hdrs[i].hdr.Control = &m.ctrl[i][0]
		m.hdrs[i].hdr.SetControllen(len(m.ctrl[i]))
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

// Stamp returns message i's kernel arrival time, or the zero time without one.
func (m *Batch) Stamp(i int) time.Time {
	n := int(m.hdrs[i].hdr.Controllen)
	return KernelStamp(m.ctrl[i][:min(n, len(m.ctrl[i]))])
}

// Packet returns received message i.
func (m *Batch) Packet(i int) []byte { return m.Bufs[i][:m.hdrs[i].n] }

const sysSendmmsg = 307 // linux/amd64; the syscall package predates it

// Buffers sets c's receive and send buffers to n bytes, past the net.core limits when the
// process may (SO_RCVBUFFORCE needs CAP_NET_ADMIN), else as far as the limits allow: a socket
// shared by hundreds of streams takes bursts of hundreds of datagrams.
func Buffers(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, n)
	})
}
