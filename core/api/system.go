package api

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/logging"
)

func init() {
	register("status", "", "Show current status", apiStatus)
	register("version", "[short]", "Version", apiVersion)
	register("uptime", "[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]", "Show uptime", apiUptime)
	register("hostname", "", "Return the system hostname", func(_ context.Context, h *core.Host, _ string, w io.Writer) error {
		return write(w, h.Bus.Identity().Hostname)
	})
	register("switchname", "", "Return the switch name", func(_ context.Context, h *core.Host, _ string, w io.Writer) error {
		return write(w, h.Bus.Identity().Switchname)
	})
	register("reloadxml", "", "Reload XML", apiReloadXML)
	register("global_getvar", "<var>", "Get global var", apiGlobalGetvar)
	register("global_setvar", "<var>=<value> [=<value2>]", "Set global var", apiGlobalSetvar)
	register("eval", "[uuid:<uuid> ]<expression>", "eval (noop)", apiEval)
	register("expand", "[uuid:<uuid> ]<cmd> <args>", "Execute an api with variable expansion", apiExpand)
	register("echo", "<data>", "Echo", func(_ context.Context, _ *core.Host, args string, w io.Writer) error {
		return write(w, args)
	})
	register("fsctl", "[api_expansion [on|off]|recover|send_sighup|hupall|pause [inbound|outbound]|resume [inbound|outbound]|shutdown [cancel|elegant|asap|now|restart]|sps|sps_peak_reset|sync_clock|sync_clock_when_idle|reclaim_mem|max_sessions|min_dtmf_duration [num]|max_dtmf_duration [num]|default_dtmf_duration [num]|min_idle_cpu|loglevel [level]|debug_level [level]]", "FS control messages", apiFsctl)
	register("console", "loglevel [level]|colorize [on|toggle|off]", "Console", apiConsole)
	register("shutdown", "", "Shutdown", func(_ context.Context, h *core.Host, _ string, w io.Writer) error {
		requestShutdown(h, "elegant", false)
		return write(w, "+OK\n")
	})
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// UpTime is FreeSWITCH's "0 years, 0 days, 2 hours, 3 minutes, 4 seconds, 567 milliseconds,
// 890 microseconds" as `status` prints it and HEARTBEAT's Up-Time header carries it.
func UpTime(d time.Duration) string { return upString(d) }

func upString(d time.Duration) string {
	us := d.Microseconds()
	parts := []struct {
		n    int64
		name string
	}{
		{us / (365 * 24 * 3600 * 1e6), "year"},
		{us / (24 * 3600 * 1e6) % 365, "day"},
		{us / (3600 * 1e6) % 24, "hour"},
		{us / (60 * 1e6) % 60, "minute"},
		{us / 1e6 % 60, "second"},
		{us / 1e3 % 1000, "millisecond"},
		{us % 1000, "microsecond"},
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s%s", p.n, p.name, plural(p.n))
	}
	return b.String()
}

func apiStatus(_ context.Context, h *core.Host, _ string, w io.Writer) error {
	st := state(h)
	since, peak, max, sps := h.SessionStats()
	cur := h.CurrentSPS()
	st.mu.Lock()
	if cur > st.peakSPS {
		st.peakSPS = cur
	}
	peakSPS := st.peakSPS
	st.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "UP %s\n", upString(time.Since(h.Started)))
	ready := "ready"
	if h.Paused() {
		ready = "not ready"
	}
	fmt.Fprintf(&b, "FreeSWITCH (Version %s) is %s\n", fullVersion(h), ready)
	fmt.Fprintf(&b, "%d session(s) since startup\n", since)
	fmt.Fprintf(&b, "%d session(s) - peak %d, last 5min %d \n", h.SessionCount(), peak, peak)
	fmt.Fprintf(&b, "%d session(s) per Sec out of max %d, peak %d, last 5min %d \n", cur, sps, peakSPS, peakSPS)
	fmt.Fprintf(&b, "%d session(s) max\n", max)
	fmt.Fprintf(&b, "min idle cpu %0.2f/%0.2f\n", 0.0, st.idleCPU())
	b.WriteString("Current Stack Size/Max 240K/8192K\n")
	b.WriteString(refusalLine(h))
	return write(w, b.String())
}

func fullVersion(h *core.Host) string {
	return CompatVersion + " goswitch " + h.Version + " 64bit"
}

func apiVersion(_ context.Context, h *core.Host, args string, w io.Writer) error {
	if strings.TrimSpace(args) == "short" {
		return write(w, CompatVersion+"\n")
	}
	return writef(w, "FreeSWITCH Version %s (goswitch %s)\n", fullVersion(h), h.Version)
}

func apiUptime(_ context.Context, h *core.Host, args string, w io.Writer) error {
	us := time.Since(h.Started).Microseconds()
	div := int64(1e6)
	switch strings.TrimSpace(args) {
	case "us", "microseconds":
		div = 1
	case "ms", "milliseconds":
		div = 1e3
	case "m", "minutes":
		div = 60e6
	case "h", "hours":
		div = 3600e6
	case "d", "days":
		div = 86400e6
	}
	return write(w, strconv.FormatInt(us/div, 10))
}

func apiReloadXML(_ context.Context, h *core.Host, _ string, w io.Writer) error {
	if err := h.Reload(); err != nil {
		return writef(w, "-ERR [%s]\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return write(w, "+OK [Success]\n")
}

func apiGlobalGetvar(_ context.Context, h *core.Host, args string, w io.Writer) error {
	args = strings.TrimSpace(args)
	if args == "" {
		g := h.Globals()
		names := make([]string, 0, len(g))
		for k := range g {
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, k := range names {
			b.WriteString(k + "=" + g[k] + "\n")
		}
		return write(w, b.String())
	}
	v, _ := h.Global(args)
	return write(w, v)
}

func apiGlobalSetvar(_ context.Context, h *core.Host, args string, w io.Writer) error {
	name, val, ok := strings.Cut(args, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return write(w, "-USAGE: <var>=<value> [=<value2>]\n")
	}
	h.SetGlobal(name, strings.TrimSpace(val))
	return write(w, "+OK")
}

// withUUID splits a leading "uuid:<uuid> " and returns the session it names.
func withUUID(h *core.Host, args string) (*core.Session, string) {
	if rest, ok := strings.CutPrefix(args, "uuid:"); ok {
		id, tail, _ := strings.Cut(rest, " ")
		s, _ := h.Session(id)
		return s, tail
	}
	return nil, args
}

func expandFor(ctx context.Context, h *core.Host, s *core.Session, v string) string {
	if s != nil {
		return s.Expand(v)
	}
	return h.Expand(ctx, v)
}

func apiEval(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	s, rest := withUUID(h, args)
	return write(w, expandFor(ctx, h, s, rest))
}

func apiExpand(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	s, rest := withUUID(h, strings.TrimSpace(args))
	cmd, cargs, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if cmd == "" {
		return write(w, "-USAGE: [uuid:<uuid> ]<cmd> <args>\n")
	}
	if s != nil {
		ctx = core.WithSession(ctx, s)
	}
	info, ok := core.LookupAPI(cmd)
	if !ok {
		return writef(w, "-ERR %s Command not found!\n", cmd)
	}
	return info.Fn(ctx, h, expandFor(ctx, h, s, cargs), w)
}

// requestShutdown asks the daemon to stop: a SHUTDOWN_REQUESTED event with Shutdown-Mode, which
// cmd/goswitch acts upon (elegant = wait for calls, asap = refuse new calls and wait, now,
// cancel), and Shutdown-Restart: true when the daemon is to start again afterwards.
func requestShutdown(h *core.Host, mode string, restart bool) {
	e := h.Bus.New(event.ShutdownRequested, "")
	e.Add("Shutdown-Mode", mode)
	if restart {
		e.Add("Shutdown-Restart", "true")
	}
	h.Bus.Publish(e)
}

// sendSighup publishes the TRAP event FreeSWITCH fires on SIGHUP; log files and cdr_csv reopen
// (and rotate when rotate-on-hup is set) on it.
func sendSighup(h *core.Host) {
	e := h.Bus.New(event.Trap, "")
	e.Add("Trapped-Signal", "HUP")
	h.Bus.Publish(e)
	if lh := logging.FromLogger(h.Log); lh != nil {
		_ = lh.Reopen()
	}
}

func setLogLevel(h *core.Host, arg string) (int, bool) {
	n, ok := logging.ParseLevel(arg)
	if !ok {
		return 0, false
	}
	if h.LogLevel != nil {
		h.LogLevel.Set(logging.ToSlog(n))
	}
	return n, true
}

func currentLogLevel(h *core.Host) int {
	if h.LogLevel == nil {
		return logging.Info
	}
	return logging.FromSlog(h.LogLevel.Level())
}

func apiFsctl(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) == 0 {
		return write(w, "-USAGE: fsctl "+fsctlSyntax()+"\n")
	}
	arg := ""
	if len(f) > 1 {
		arg = f[1]
	}
	switch strings.ToLower(f[0]) {
	case "max_sessions":
		if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
			h.SetMaxSessions(int64(n))
		}
		_, _, max, _ := h.SessionStats()
		return writef(w, "+OK max sessions: %d\n", max)
	case "sps":
		if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
			h.SetSPS(int64(n))
		}
		_, _, _, sps := h.SessionStats()
		return writef(w, "+OK sessions-per-second: %d\n", sps)
	case "sps_peak_reset":
		st := state(h)
		st.mu.Lock()
		st.peakSPS = 0
		st.mu.Unlock()
		return write(w, "+OK\n")
	case "loglevel", "debug_level":
		if arg != "" {
			if _, ok := setLogLevel(h, arg); !ok {
				return write(w, "-ERR Invalid log level\n")
			}
		}
		n := currentLogLevel(h)
		return writef(w, "+OK log level: %s [%d]\n", logging.LevelName(n), n)
	case "pause":
		h.SetPaused(true)
		return write(w, "+OK\n")
	case "resume":
		h.SetPaused(false)
		return write(w, "+OK\n")
	case "hupall":
		h.HangupAll(core.ParseCause(firstNonEmpty(arg, "MANAGER_REQUEST")), nil)
		return write(w, "+OK\n")
	case "send_sighup":
		sendSighup(h)
		return write(w, "+OK\n")
	case "shutdown":
		// As FreeSWITCH's mod_commands: the words combine ("elegant restart"); cancel wins.
		mode, restart := "now", false
		for _, a := range f[1:] {
			switch a = strings.ToLower(a); a {
			case "elegant", "asap", "now":
				mode = a
			case "restart", "reincarnate":
				restart = true
			case "cancel":
				mode, restart = "cancel", false
			}
			if mode == "cancel" {
				break
			}
		}
		requestShutdown(h, mode, restart)
		return write(w, "+OK\n")
	case "reclaim_mem":
		return write(w, reclaimMem())
	case "api_expansion", "recover", "sync_clock", "sync_clock_when_idle",
		"min_dtmf_duration", "max_dtmf_duration", "default_dtmf_duration", "min_idle_cpu", "uuid_version":
		return write(w, "+OK\n")
	}
	return write(w, "-ERR INVALID COMMAND\nUSAGE: fsctl "+fsctlSyntax()+"\n")
}

func fsctlSyntax() string {
	if a, ok := core.LookupAPI("fsctl"); ok {
		return a.Syntax
	}
	return ""
}

func apiConsole(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) == 0 {
		return write(w, "-USAGE: loglevel [level]|colorize [on|toggle|off]\n")
	}
	switch strings.ToLower(f[0]) {
	case "loglevel":
		if len(f) > 1 {
			if _, ok := setLogLevel(h, f[1]); !ok {
				return write(w, "-ERR Invalid log level\n")
			}
		}
		return writef(w, "+OK console log level set to %s\n", logging.LevelName(currentLogLevel(h)))
	case "colorize":
		return write(w, "+OK console color enabled\n")
	}
	return write(w, "-USAGE: loglevel [level]|colorize [on|toggle|off]\n")
}
