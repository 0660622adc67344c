package main

import (
	"sort"
	"sync"
	"syscall"
	"time"
)

// hist is a 10 µs-bucket histogram of |d| up to 200 ms; one goroutine writes it.
type hist struct {
	b     [20000]uint64
	count uint64
}

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = -d
	}
	h.b[min(int(d/(10*time.Microsecond)), len(h.b)-1)]++
	h.count++
}

func (h *hist) merge(o *hist) {
	for i := range h.b {
		h.b[i] += o.b[i]
	}
	h.count += o.count
}

func (h *hist) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	want := uint64(float64(h.count) * q)
	var acc uint64
	for i := range h.b {
		acc += h.b[i]
		if acc >= want && acc > 0 {
			return time.Duration(i+1) * 10 * time.Microsecond
		}
	}
	return 200 * time.Millisecond
}

// setups collects call-setup times and failures by SIP code (0: no final response).
type setups struct {
	mu    sync.Mutex
	times []time.Duration
	fails map[string]int
}

func (s *setups) ok(d time.Duration) {
	s.mu.Lock()
	s.times = append(s.times, d)
	s.mu.Unlock()
}

func (s *setups) fail(why string) {
	s.mu.Lock()
	if s.fails == nil {
		s.fails = map[string]int{}
	}
	s.fails[why]++
	s.mu.Unlock()
}

func (s *setups) quantile(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.times) == 0 {
		return 0
	}
	sort.Slice(s.times, func(i, j int) bool { return s.times[i] < s.times[j] })
	return s.times[min(len(s.times)-1, int(q*float64(len(s.times))))]
}

// selfCPU is this process's user+system time (getrusage).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
