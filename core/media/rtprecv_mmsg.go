//go:build linux && (amd64 || arm64)

package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// mmsgBatch is how many datagrams one recvmmsg call may return. Two is enough for the point of
// it: a call that returns fewer than asked for has emptied the socket, so the reader can wait for
// the next readiness edge without the extra recvfrom that would only report EAGAIN.
const mmsgBatch = 2

// mmsghdr is struct mmsghdr (Go pads it to 64 bytes like C does on 64-bit Linux).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// mmsgReader holds one port's receive buffers and the kernel message headers pointing at them.
type mmsgReader struct {
	hdrs  [mmsgBatch]mmsghdr
	iovs  [mmsgBatch]syscall.Iovec
	names [mmsgBatch]syscall.RawSockaddrAny
	bufs  [mmsgBatch][maxPacket + 64]byte
}

func newMMsgReader() *mmsgReader {
	r := &mmsgReader{}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(len(r.bufs[i]))
		r.hdrs[i].hdr.Iov = &r.iovs[i]
		r.hdrs[i].hdr.Iovlen = 1
		r.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	return r
}

// recv reads up to mmsgBatch datagrams without blocking.
func (r *mmsgReader) recv(fd uintptr) (int, syscall.Errno) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrAny
		r.hdrs[i].hdr.Flags = 0
	}
	n, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), mmsgBatch,
		syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// packet returns datagram i and its source address.
func (r *mmsgReader) packet(i int) ([]byte, netip.AddrPort) {
	pkt := r.bufs[i][:min(int(r.hdrs[i].n), len(r.bufs[i]))]
	sa := &r.names[i]
	switch sa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&a.Port))[:])
		return pkt, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), port)
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&a.Port))[:])
		ip := netip.AddrFrom16(a.Addr)
		if a.Scope_id != 0 {
			ip = ip.WithZone(strconv.Itoa(int(a.Scope_id))) // link-local only; rare
		}
		return pkt, netip.AddrPortFrom(ip, port)
	}
	return pkt, netip.AddrPort{}
}

// readLoopMMsg is readLoop on Linux: it receives through the socket's RawConn with recvmmsg and
// processes audio packets inside the read callback, so a relayed packet costs one receive
// syscall (plus the send), not a receive and a second one that reports EAGAIN, and the
// goroutine parks straight after. Packets that may run user callbacks (telephone-event, whose
// OnDTMF may hang up and Close this port) are processed after the read returns, since Close
// waits for a read in progress on the socket to end.
func (p *RTPPort) readLoopMMsg() bool {
	rc, err := p.conn.SyscallConn()
	if err != nil {
		return false
	}
	r := newMMsgReader()
	var (
		deadlineSet time.Time
		pending     int // r's packets from index pending on are to be handled after Read
		count       int
		rerr        syscall.Errno
	)
	read := func(fd uintptr) bool {
		for {
			n, e := r.recv(fd)
			if e == syscall.EAGAIN {
				return false
			}
			if e != 0 {
				rerr = e
				return true
			}
			now := time.Now()
			te := p.teRecvPT.Load()
			for i := range n {
				pkt, from := r.packet(i)
				if te != 0 && len(pkt) > 1 && uint32(pkt[1]&0x7f) == te {
					pending, count = i, n
					return true
				}
				p.injMu.Lock()
				p.handleTE(pkt, from, now, te)
				p.injMu.Unlock()
			}
			if p.timeout() > 0 && now.Sub(deadlineSet) > time.Second {
				return true // refresh the read deadline (about once a second)
			}
			if n < mmsgBatch {
				return false // the socket is empty: wait for the next packet's readiness edge
			}
		}
	}
	for {
		now := time.Now()
		if to := p.timeout(); to > 0 && now.Sub(deadlineSet) > time.Second {
			_ = p.conn.SetReadDeadline(now.Add(min(to, time.Second*2)))
			deadlineSet = now
		} else if to <= 0 && !deadlineSet.IsZero() {
			_ = p.conn.SetReadDeadline(time.Time{})
			deadlineSet = time.Time{}
		}
		pending, count, rerr = -1, 0, 0
		err := rc.Read(read)
		if err == nil && rerr != 0 {
			err = rerr
		}
		if pending >= 0 {
			now := time.Now()
			for i := pending; i < count; i++ {
				pkt, from := r.packet(i)
				p.injMu.Lock()
				p.handle(pkt, from, now)
				p.injMu.Unlock()
			}
		}
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return true
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadlineSet = time.Time{}
				p.checkTimeout(time.Now())
			}
			continue
		}
		if to := p.timeout(); to > 0 {
			p.checkTimeout(now)
		}
	}
}
