package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/core/esl/wire"
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

// procCPU is pid's user+system time from /proc/<pid>/stat (0 without a pid).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clkTck
}

// clkTck is USER_HZ, 100 on every Linux the Go runtime supports.
const clkTck = 100

// procRSS is pid's resident set in KiB from /proc/<pid>/status (0 without a pid).
func procRSS(pid int) int {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// channels asks goswitch's event socket for `show channels count` (-1 when it cannot).
func channels(addr, pass string) (int, error) {
	c, err := wire.Dial(addr, "", pass, 5*time.Second)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	out, err := c.API("show channels count")
	if err != nil {
		return -1, err
	}
	for _, f := range strings.Fields(out) {
		if n, err := strconv.Atoi(f); err == nil {
			return n, nil
		}
	}
	return -1, fmt.Errorf("show channels count: %q", out)
}
