package api

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

// refusalLine is goswitch's addition to `status`: new sessions refused for want of capacity,
// by reason, and the scheduling lag that drives the overload refusals. It is empty until a call
// has been refused, so an idle switch's status reads exactly as FreeSWITCH's (scripts parse it).
func refusalLine(h *core.Host) string {
	r := h.Refusals()
	var total uint64
	parts := make([]string, 0, len(r))
	for _, reason := range core.RefusalReasons() {
		total += r[reason]
		parts = append(parts, fmt.Sprintf("%s %d", reason, r[reason]))
	}
	lag, over := h.SchedulingLag()
	state := ""
	if over {
		state = " (overloaded: refusing new calls)"
	}
	if total == 0 && !over {
		return ""
	}
	return fmt.Sprintf("%d session(s) refused with 503: %s; scheduling lag %dms%s\n",
		total, strings.Join(parts, ", "), lag.Milliseconds(), state)
}

// reclaimMem is fsctl reclaim_mem: FreeSWITCH returns its pools' free memory to the OS; goswitch
// runs a GC and returns the freed heap pages (debug.FreeOSMemory) and says what it held before
// and after. What stays is the live heap, the goroutine stacks in use and the runtime's own
// metadata.
func reclaimMem() string {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	held := func(m *runtime.MemStats) uint64 {
		return m.HeapSys - m.HeapReleased + m.StackSys + m.OtherSys + m.GCSys + m.MSpanSys + m.MCacheSys + m.BuckHashSys
	}
	return fmt.Sprintf("+OK reclaimed %.1f MB in %s: heap in use %.1f MB, held from the OS %.1f MB -> %.1f MB\n",
		mb(held(&before)-min(held(&before), held(&after))), time.Since(t0).Round(time.Millisecond),
		mb(after.HeapInuse), mb(held(&before)), mb(held(&after)))
}
