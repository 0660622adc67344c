package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/core"
)

// defaultDrainTimeout is how long SIGTERM waits for calls to end unless configured: long enough
// for most calls in a short maintenance window, short enough for a service manager's stop
// timeout (systemd's default is 90 s).
const defaultDrainTimeout = 30 * time.Second

// drainTimeout is the SIGTERM drain's deadline: -drain-timeout, else switch.conf's
// drain-timeout-sec, else defaultDrainTimeout.
func drainTimeout(h *core.Host, flag time.Duration) time.Duration {
	if flag >= 0 {
		return flag
	}
	if sw := h.Config().Configuration("switch.conf"); sw != nil {
		for _, el := range sw.FindElements("settings/param") {
			if el.SelectAttrValue("name", "") != "drain-timeout-sec" {
				continue
			}
			if n, err := strconv.Atoi(el.SelectAttrValue("value", "")); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return defaultDrainTimeout
}

// reexec replaces the process with a fresh start of the same binary and arguments (fsctl
// shutdown restart). It returns only when that fails.
func reexec(stderr io.Writer) {
	exe, err := os.Executable()
	if err == nil {
		err = syscall.Exec(exe, os.Args, os.Environ())
	}
	fmt.Fprintln(stderr, "goswitch: restart failed:", err)
}
