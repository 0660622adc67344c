//go:build linux && (amd64 || arm64)

package rtp

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The RTP receive side on Linux: instead of a goroutine parked on every socket (one netpoll
// wake-up, one goroutine switch and one receive per packet), each poll shard owns an epoll set
// of RTP sockets. The shard's goroutine parks on the epoll descriptor itself, registered with
// Go's netpoller (epoll sets nest), so one wake-up serves every socket that became readable
// meanwhile: at 2,000 streams that is one wake-up per handful of packets, not one per packet.
// RTP and hold timeouts move from per-socket read deadlines to a periodic scan of the shard.
//
// The shard keeps a duplicate of the socket's descriptor and closes the net.UDPConn, which takes
// the socket out of Go's own netpoller: otherwise every packet would also be an edge event the
// runtime has to collect for a socket nobody waits on. Sends then go out through that duplicate.
// System calls are the cost that matters (a bare one is over 1 µs on a virtual machine), so the
// per-packet path is one recvmmsg and one sendto.

// pollScan is how often a shard looks for RTP timeouts (rtp_timeout_sec has 1 s granularity).
const pollScan = 250 * time.Millisecond

type pollShard struct {
	epfd int
	file *os.File
	rc   syscall.RawConn

	mu      sync.Mutex
	ports   map[uint32]*RTPPort // by poll id, the epoll event's data
	nextID  uint32
	running bool

	// Poll goroutine only.
	rd      *mmsgReader
	rtcpBuf [maxPacket + 64]byte
	evs     [128]syscall.EpollEvent
	batch   [128]*RTPPort
	scan    []*RTPPort
}

var pollers struct {
	once   sync.Once
	shards []*pollShard
}

// pollShardFor returns a shard for a new port, or nil if epoll is unavailable.
func pollShardFor() *pollShard {
	pollers.once.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			s, err := newPollShard()
			if err != nil {
				return
			}
			pollers.shards = append(pollers.shards, s)
		}
	})
	if len(pollers.shards) == 0 {
		return nil
	}
	// Random, not round-robin: the two legs of a call are created one after the other, and
	// round-robin would put every A leg on one shard and every B leg on the other, which is one
	// busy shard whenever media flows mostly one way (music on hold, a muted or VAD phone).
	return pollers.shards[rand.IntN(len(pollers.shards))]
}

func newPollShard() (*pollShard, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "rtp-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	// A deadline works only if the runtime poller took the descriptor.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, err
	}
	return &pollShard{epfd: fd, file: f, rc: rc, ports: map[uint32]*RTPPort{}, rd: newMMsgReader()}, nil
}

// pollState is a port's membership of a poll shard.
type pollState struct {
	shard  *pollShard
	id     uint32
	fd     int // the shard's duplicate of the RTP socket
	rtcpFD int // the RTCP net.UDPConn's descriptor (it still sends our reports)
}

// epollET is EPOLLET, whose sign differs between the syscall package's GOARCHes.
const epollET = 1 << 31

// Event data: the port's id, and which of its sockets is ready.
const (
	pollRTP  = 0
	pollRTCP = 1
)

// startPolling hands p's RTP socket to a poll shard. false means the caller must run its own
// reader goroutine.
func (p *RTPPort) startPolling() bool {
	s := pollShardFor()
	if s == nil {
		return false
	}
	rc, err := p.conn.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		fd, derr = fcntlDupCloexec(int(f))
	}); err != nil || derr != nil {
		return false
	}
	// Kernel arrival stamps: jitter statistics and the jitter buffer see when a packet came,
	// not when its shard got round to it (a shard drains many sockets per wake-up).
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	for s.nextID == 0 || s.ports[s.nextID] != nil {
		s.nextID++
	}
	id := s.nextID
	// RTCP is rare: its socket stays a net.UDPConn (reports go out through it), but the shard
	// reads it by descriptor under the same rule as RTP: only under injMu, only while open.
	rrc, err := p.rtcp.SyscallConn()
	if err != nil {
		syscall.Close(fd)
		return false
	}
	rfd := -1
	_ = rrc.Control(func(f uintptr) { rfd = int(f) })
	// Edge-triggered: the shard always drains a socket it is told about.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLERR | epollET, Fd: int32(id), Pad: pollRTP}
	if err := syscall.EpollCtl(s.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return false
	}
	ev.Pad = pollRTCP
	if err := syscall.EpollCtl(s.epfd, syscall.EPOLL_CTL_ADD, rfd, &ev); err != nil {
		_ = syscall.EpollCtl(s.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
		syscall.Close(fd)
		return false
	}
	p.pl = pollState{shard: s, id: id, fd: fd, rtcpFD: rfd}
	p.conn.Close() // the duplicate keeps the socket; Go's netpoller lets go of it
	s.ports[id] = p
	if !s.running {
		s.running = true
		go s.run()
	}
	return true
}

func fcntlDupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// writeTo sends one datagram on the RTP socket. smu must be held.
func (p *RTPPort) writeTo(pkt []byte, to netip.AddrPort) error {
	if p.pl.shard == nil {
		_, err := p.conn.WriteToUDPAddrPort(pkt, to)
		return err
	}
	var (
		sa4 syscall.RawSockaddrInet4
		sa6 syscall.RawSockaddrInet6
		sa  unsafe.Pointer
		sl  uintptr
	)
	if p.pl.fd < 0 {
		return net.ErrClosed
	}
	if a := to.Addr(); p.local.Addr().Is4() {
		if a = a.Unmap(); !a.Is4() {
			return syscall.EAFNOSUPPORT
		}
		sa4.Family = syscall.AF_INET
		sa4.Addr = a.As4()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], to.Port())
		sa, sl = unsafe.Pointer(&sa4), syscall.SizeofSockaddrInet4
	} else {
		sa6.Family = syscall.AF_INET6
		sa6.Addr = a.As16()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa6.Port))[:], to.Port())
		sa, sl = unsafe.Pointer(&sa6), syscall.SizeofSockaddrInet6
	}
	if len(pkt) == 0 {
		return nil
	}
	// Raw: a non-blocking UDP send never parks the thread, and the scheduler's syscall entry
	// (which also wakes a sleeping sysmon) cost more than the packet's own bookkeeping.
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(p.pl.fd), uintptr(unsafe.Pointer(&pkt[0])),
		uintptr(len(pkt)), 0, uintptr(sa), sl)
	if e != 0 {
		return e
	}
	return nil
}

// closeFD closes the shard's duplicate of the RTP socket, under smu so no send is using it.
func (p *RTPPort) closeFD() {
	if p.pl.shard == nil {
		return
	}
	p.smu.Lock()
	if p.pl.fd >= 0 {
		syscall.Close(p.pl.fd)
		p.pl.fd = -1
	}
	p.smu.Unlock()
}

// stopPolling takes p out of its shard. A drain of p may still be in progress; Close waits for
// it (injMu) before closing the socket.
func (p *RTPPort) stopPolling() {
	s := p.pl.shard
	if s == nil {
		return
	}
	s.mu.Lock()
	_ = syscall.EpollCtl(s.epfd, syscall.EPOLL_CTL_DEL, p.pl.fd, nil)
	_ = syscall.EpollCtl(s.epfd, syscall.EPOLL_CTL_DEL, p.pl.rtcpFD, nil)
	delete(s.ports, p.pl.id)
	if len(s.ports) == 0 {
		// Wake the goroutine so it sees the empty set and exits (under mu: run sets its own
		// deadline under mu too, so this one cannot be overwritten).
		_ = s.file.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
}

func (s *pollShard) run() {
	for {
		s.mu.Lock()
		if len(s.ports) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		_ = s.file.SetReadDeadline(time.Now().Add(pollScan))
		s.mu.Unlock()
		err := s.rc.Read(s.wait)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.scanTimeouts()
		} else if err != nil {
			time.Sleep(pollScan) // cannot happen with a live epoll descriptor; do not spin
		}
	}
}

// wait is the RawConn read callback: drain every ready socket; false parks the goroutine until
// the epoll descriptor is readable again.
func (s *pollShard) wait(uintptr) bool {
	for {
		// Timeout 0, so it never blocks: a raw call, like the receives and sends below.
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(s.epfd), uintptr(unsafe.Pointer(&s.evs[0])),
			uintptr(len(s.evs)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		n := int(r)
		if e != 0 || n <= 0 {
			return false
		}
		s.mu.Lock()
		for i := range n {
			s.batch[i] = s.ports[uint32(s.evs[i].Fd)]
		}
		s.mu.Unlock()
		for i := range n {
			if p := s.batch[i]; p != nil {
				s.batch[i] = nil
				p.injMu.Lock()
				if !p.closed.Load() {
					if s.evs[i].Pad == pollRTCP {
						p.drainRTCP(s.rtcpBuf[:])
					} else {
						p.drain(s.rd, time.Now()) // arrival time for jitter: per socket, not per batch
					}
				}
				p.injMu.Unlock()
			}
		}
		if n < len(s.evs) {
			return false
		}
	}
}

// drain receives from p's socket until it is empty. The shard holds p.injMu and has seen p
// open, so the descriptor is still p's (closeSockets waits for injMu).
func (p *RTPPort) drain(r *mmsgReader, now time.Time) {
	fd := uintptr(p.pl.fd)
	for {
		n, e := r.recv(fd)
		if e != 0 {
			return // EAGAIN: empty
		}
		te := p.teRecvPT.Load()
		for i := range n {
			pkt, from := r.packet(i)
			at := r.stamp(i)
			if at.IsZero() {
				at = now
			}
			p.handleTE(pkt, from, at, te)
			if p.closed.Load() {
				return // a callback closed the port
			}
		}
		if n < mmsgBatch {
			return
		}
	}
}

// drainRTCP reads p's RTCP socket until it is empty (the shard holds p.injMu, as for drain).
func (p *RTPPort) drainRTCP(buf []byte) {
	for !p.closed.Load() {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(p.pl.rtcpFD), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(len(buf)), syscall.MSG_DONTWAIT, 0, 0)
		if e != 0 || n == 0 {
			return
		}
		p.handleRTCP(buf[:n])
	}
}

func (s *pollShard) scanTimeouts() {
	s.mu.Lock()
	s.scan = s.scan[:0]
	for _, p := range s.ports {
		s.scan = append(s.scan, p)
	}
	s.mu.Unlock()
	now := time.Now()
	for i, p := range s.scan {
		s.scan[i] = nil
		if !p.closed.Load() && p.timeout() > 0 {
			p.checkTimeout(now)
		}
	}
}
