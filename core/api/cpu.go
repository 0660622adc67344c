package api

import (
	"os"
	"strconv"
	"strings"
)

// cpuSample is the aggregate "cpu" line of /proc/stat: idle (idle+iowait) and total jiffies.
type cpuSample struct{ idle, total uint64 }

func readCPU() (cpuSample, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}, false
	}
	var s cpuSample
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		s.total += n
		if i == 3 || i == 4 { // idle, iowait
			s.idle += n
		}
	}
	return s, true
}

// idleCPU returns the idle CPU percentage since the previous call (since boot the first time),
// FreeSWITCH's switch_core_idle_cpu() as `status` prints it.
func (st *State) idleCPU() float64 {
	cur, ok := readCPU()
	if !ok {
		return 100
	}
	st.mu.Lock()
	prev := st.cpu
	st.cpu = cur
	st.mu.Unlock()
	dt := cur.total - prev.total
	if dt == 0 {
		return 100
	}
	return 100 * float64(cur.idle-prev.idle) / float64(dt)
}
