package rtp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// PortAllocator hands out even RTP ports (RTCP on +1) from a range on one IP, FreeSWITCH's
// rtp-start-port/rtp-end-port (default 16384-32768). Free pairs wait in a FIFO: a released pair
// goes to the back and is handed out again only after Quarantine, so a new call does not
// receive packets still flowing to the old call on that port. Late packets that arrive after the
// quarantine are dropped by SSRC/latching, so the quarantine can be short (switch.conf
// rtp-port-quarantine-ms, default DefaultQuarantine); a long one caps the call rate at
// pairs/quarantine.
type PortAllocator struct {
	ip         netip.Addr
	start, end int
	// Quarantine is how long a released pair stays out of use; set it before the first
	// Allocate or with SetQuarantine.
	Quarantine time.Duration

	mu        sync.Mutex
	inUse     int
	free      []freePair // FIFO, oldest release first
	head      int
	exhausted atomic.Uint64
}

type freePair struct {
	port     int
	released time.Time
}

// DefaultQuarantine is the hold-out of a released pair unless configured.
const DefaultQuarantine = time.Second

// ErrNoPorts is returned when the range is exhausted.
var ErrNoPorts = errors.New("media: no free RTP port in range")

// NewPortAllocator manages [start, end] on ip. Odd bounds are rounded inwards.
func NewPortAllocator(ip netip.Addr, start, end int) *PortAllocator {
	if start%2 == 1 {
		start++
	}
	if end%2 == 0 {
		end-- // the last pair needs end for RTCP
	}
	a := &PortAllocator{ip: ip, start: start, end: end, Quarantine: DefaultQuarantine}
	for port := start; port+1 <= end; port += 2 {
		a.free = append(a.free, freePair{port: port})
	}
	return a
}

// SetQuarantine changes how long a released pair stays out of use.
func (a *PortAllocator) SetQuarantine(d time.Duration) {
	a.mu.Lock()
	a.Quarantine = d
	a.mu.Unlock()
}

// Allocate binds the next free pair and returns a port that gives its numbers back on Close.
// Exhaustion (every pair in use or in quarantine) returns ErrNoPorts and is counted.
func (a *PortAllocator) Allocate(cfg RTPConfig) (*RTPPort, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for tries := len(a.free) - a.head; tries > 0; tries-- {
		f := a.free[a.head]
		if !f.released.IsZero() && now.Sub(f.released) < a.Quarantine {
			break // the rest were released later still
		}
		a.head++
		p, err := bindPair(a.ip, f.port, cfg)
		if err != nil {
			// Taken by another process: back of the queue, as if just released.
			a.push(freePair{port: f.port, released: now})
			continue
		}
		a.compact()
		a.inUse++
		port := f.port
		p.release = func() { a.release(port) }
		return p, nil
	}
	a.exhausted.Add(1)
	return nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, a.ip)
}

func (a *PortAllocator) push(f freePair) { a.free = append(a.free, f) }

// compact drops the consumed head of the queue once it is half of the slice.
func (a *PortAllocator) compact() {
	if a.head > 64 && a.head*2 >= len(a.free) {
		n := copy(a.free, a.free[a.head:])
		a.free = a.free[:n]
		a.head = 0
	}
}

func (a *PortAllocator) release(port int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inUse--
	a.push(freePair{port: port, released: time.Now()})
}

// InUse reports how many pairs are allocated.
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inUse
}

// Pairs reports how many pairs the range holds.
func (a *PortAllocator) Pairs() int { return (a.end - a.start + 1) / 2 }

// Exhausted reports how many allocations failed because every pair was in use or quarantined.
func (a *PortAllocator) Exhausted() uint64 { return a.exhausted.Load() }
