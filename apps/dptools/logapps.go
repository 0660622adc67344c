package dptools

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/logging"
)

// LogLevel maps FreeSWITCH level names (switch_log_str2level: console, alert, crit, err,
// warning, notice, info, debug, or 0-7) to slog levels, so `log CRIT text` prints as [CRIT] and
// `log ALERT text` as [ALERT] like FreeSWITCH. debug1..debug10 are debug.
func LogLevel(name string) (slog.Level, bool) {
	if n, ok := logging.ParseLevel(name); ok {
		return logging.ToSlog(n), true
	}
	if l := strings.ToLower(name); strings.HasPrefix(l, "debug") {
		if _, err := strconv.Atoi(l[len("debug"):]); err == nil {
			return slog.LevelDebug, true
		}
	}
	return slog.LevelDebug, false
}

func logApp(ctx context.Context, s *core.Session, args string) error {
	first, rest, _ := strings.Cut(args, " ")
	level, ok := LogLevel(first)
	msg := rest
	if !ok { // no level word: the whole string is the message, at DEBUG
		msg = args
	}
	s.Log().Log(ctx, level, msg)
	return nil
}

func info(ctx context.Context, s *core.Session, args string) error {
	level, ok := LogLevel(args)
	if !ok {
		level = slog.LevelInfo
	}
	e := s.NewEvent("CHANNEL_DATA", "")
	var b strings.Builder
	b.WriteString("CHANNEL_DATA:\n")
	for _, h := range e.Headers {
		fmt.Fprintf(&b, "%s: [%s]\n", h.Name, h.Value)
	}
	s.Log().Log(ctx, level, b.String())
	return nil
}

// fireEvent fires CHANNEL_APPLICATION, or the event named by Event-Name (CUSTOM with
// Event-Subclass), with the channel's data and the given headers.
func fireEvent(ctx context.Context, s *core.Session, args string) error {
	name, sub := "CHANNEL_APPLICATION", ""
	var hdrs [][2]string
	delim := ","
	if strings.HasPrefix(args, "^^") && len(args) > 3 {
		delim = args[2:3]
		args = args[3:]
	}
	for _, kv := range strings.Split(args, delim) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		switch {
		case strings.EqualFold(k, "Event-Name"):
			name = strings.TrimSpace(v)
		case strings.EqualFold(k, "Event-Subclass"):
			sub = strings.TrimSpace(v)
			if name == "CHANNEL_APPLICATION" {
				name = "CUSTOM"
			}
		default:
			hdrs = append(hdrs, [2]string{k, v})
		}
	}
	e := s.NewEvent(name, sub)
	for _, h := range hdrs {
		e.Add(h[0], h[1])
	}
	s.Host().Bus.Publish(e)
	return nil
}

func verboseEvents(ctx context.Context, s *core.Session, args string) error {
	v := "true"
	if strings.TrimSpace(args) != "" && !core.True(args) {
		v = "false"
	}
	s.SetVar("verbose_events", v)
	return nil
}
