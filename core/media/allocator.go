package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// PortAllocator hands out even RTP ports (RTCP on +1) from a range on one IP, FreeSWITCH's
// rtp-start-port/rtp-end-port (default 16384-32768). It walks the range round-robin and keeps
// a released port out of use for Quarantine, so a new call does not receive packets still
// flowing to the old call on that port.
type PortAllocator struct {
	ip         netip.Addr
	start, end int
	Quarantine time.Duration

	mu       sync.Mutex
	next     int
	inUse    map[int]bool
	released map[int]time.Time
}

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
	return &PortAllocator{ip: ip, start: start, end: end, next: start, Quarantine: 5 * time.Second,
		inUse: map[int]bool{}, released: map[int]time.Time{}}
}

// Allocate binds the next free pair and returns a port that gives its numbers back on Close.
func (a *PortAllocator) Allocate(cfg RTPConfig) (*RTPPort, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pairs := (a.end - a.start + 1) / 2
	now := time.Now()
	for range pairs {
		port := a.next
		a.next += 2
		if a.next+1 > a.end {
			a.next = a.start
		}
		if a.inUse[port] {
			continue
		}
		if t, ok := a.released[port]; ok {
			if now.Sub(t) < a.Quarantine {
				continue
			}
			delete(a.released, port)
		}
		p, err := bindPair(a.ip, port, cfg)
		if err != nil {
			continue // taken by another process; try the next pair
		}
		a.inUse[port] = true
		p.release = func() { a.free(port) }
		return p, nil
	}
	return nil, fmt.Errorf("%w %d-%d on %s", ErrNoPorts, a.start, a.end, a.ip)
}

func (a *PortAllocator) free(port int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inUse, port)
	a.released[port] = time.Now()
}

// InUse reports how many pairs are allocated.
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.inUse)
}
