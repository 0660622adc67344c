package loadconf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/esl/wire"
)

// clkTck is USER_HZ, 100 on every Linux the Go runtime supports.
const clkTck = 100

// ProcCPU is pid's user+system time from /proc/<pid>/stat (0 without a pid or on error).
func ProcCPU(pid int) time.Duration {
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

// ProcRSS is pid's resident set in KiB from /proc/<pid>/status (0 without a pid or on error).
func ProcRSS(pid int) int {
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

// Channels asks an event socket for `show channels count` (-1 when it cannot).
func Channels(addr, pass string) (int, error) {
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
