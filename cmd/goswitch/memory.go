package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// applyMemoryLimit sets the Go runtime's soft memory limit from switch.conf memory-limit-mb when
// the environment does not (GOMEMLIMIT wins: the runtime has already applied it). Without either
// there is no limit, Go's default: GOGC=100 lets the heap grow to twice the live data, and the
// RSS comes back after a load by itself (the scavenger) and at once after the overload monitor's
// debug.FreeOSMemory. A limit makes the collector work harder as the heap nears it, so set it
// near what the machine or container can give goswitch, not below the working set at peak.
func applyMemoryLimit(h *core.Host, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		log.Info("memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return
	}
	sw := h.Config().Configuration("switch.conf")
	if sw == nil {
		return
	}
	for _, p := range sw.FindElements("settings/param") {
		if p.SelectAttrValue("name", "") != "memory-limit-mb" {
			continue
		}
		v := strings.TrimSpace(p.SelectAttrValue("value", ""))
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 {
			log.Warn("switch.conf memory-limit-mb: want megabytes (0: no limit)", "value", v)
			return
		}
		if mb > 0 {
			debug.SetMemoryLimit(mb << 20)
			log.Info("memory limit set", "memory_limit_mb", mb)
		}
	}
}
