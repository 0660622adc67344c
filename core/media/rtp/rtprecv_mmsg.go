//go:build linux && (amd64 || arm64)

package rtp

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/goswitch/goswitch/internal/udpbatch"
)

// mmsgBatch is how many datagrams one recvmmsg call may return. Two is enough for the point of
// it: a call that returns fewer than asked for has emptied the socket, so the poll shard can wait
// for the next readiness edge without the extra receive that would only report EAGAIN.
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
	ctrl  [mmsgBatch][64]byte // SCM_TIMESTAMPNS
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
		r.hdrs[i].hdr.Control = &r.ctrl[i][0]
	}
	return r
}

// recv reads up to mmsgBatch datagrams without blocking.
func (r *mmsgReader) recv(fd uintptr) (int, syscall.Errno) {
	for i := range r.hdrs {
		r.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrAny
		r.hdrs[i].hdr.Flags = 0
		r.hdrs[i].hdr.SetControllen(len(r.ctrl[i]))
	}
	// MSG_DONTWAIT: never blocks, so a raw call without the scheduler's syscall bookkeeping.
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), mmsgBatch,
		syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// stamp returns when the kernel queued datagram i on the socket (SO_TIMESTAMPNS), or the zero
// time if the socket does not stamp.
func (r *mmsgReader) stamp(i int) time.Time {
	return udpbatch.KernelStamp(r.ctrl[i][:min(int(r.hdrs[i].hdr.Controllen), len(r.ctrl[i]))])
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
