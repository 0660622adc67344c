package api

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	register("console_complete", "<line>", "Console completion", apiConsoleComplete)
}

// completions lists the words that may follow a command (FreeSWITCH's `complete` table).
var completions = map[string][]string{
	"show":    {"aliases", "api", "application", "bridged_calls", "calls", "channels", "chat", "codec", "complete", "detailed_bridged_calls", "detailed_calls", "dialplan", "endpoint", "file", "interface_types", "interfaces", "limits", "management", "modules", "nat_map", "registrations", "say", "status", "tasks", "timer"},
	"fsctl":   {"api_expansion", "debug_level", "default_dtmf_duration", "hupall", "loglevel", "max_dtmf_duration", "max_sessions", "min_dtmf_duration", "min_idle_cpu", "pause", "reclaim_mem", "recover", "resume", "send_sighup", "shutdown", "sps", "sps_peak_reset", "sync_clock", "sync_clock_when_idle"},
	"console": {"colorize", "loglevel"},
	"version": {"short"},
	"hash":    {"delete", "insert", "select"},
}

var logLevels = []string{"console", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// apiConsoleComplete implements switch_console_complete for a stream: "\n\n", the candidates in
// "[%20s]\t" columns (four per line), "\n\n", then "write=<len>:<word> " for a single hit or
// "write=<len>:<common prefix>" for several. fs_cli replaces the last <len> characters of the
// line with the word. The argument is the line, or "c=<cursor>;<line>".
func apiConsoleComplete(_ context.Context, h *core.Host, args string, w io.Writer) error {
	line := args
	if rest, ok := strings.CutPrefix(args, "c="); ok {
		pos, l, ok := strings.Cut(rest, ";")
		if ok {
			line = l
			if n, err := strconv.Atoi(pos); err == nil && n >= 0 && n < len(line) {
				line = line[:n]
			}
		}
	}
	line = strings.TrimLeft(line, " ")
	words := strings.Fields(line)
	partial := ""
	if !strings.HasSuffix(line, " ") && len(words) > 0 {
		partial = words[len(words)-1]
		words = words[:len(words)-1]
	}
	var cands []string
	if len(words) == 0 {
		for _, a := range core.APIs() {
			cands = append(cands, a.Name)
		}
	} else {
		cmd := strings.ToLower(words[0])
		switch {
		case len(words) == 1 && completions[cmd] != nil:
			cands = completions[cmd]
		case len(words) == 2 && (cmd == "console" || cmd == "fsctl") && (words[1] == "loglevel" || words[1] == "debug_level"):
			cands = logLevels
		case len(words) == 1 && (strings.HasPrefix(cmd, "uuid_") || cmd == "sendmsg"):
			for _, s := range h.Sessions() {
				cands = append(cands, s.UUID())
			}
		}
	}
	var hits []string
	for _, c := range cands {
		if strings.HasPrefix(c, partial) {
			hits = append(hits, c)
		}
	}
	var b strings.Builder
	b.WriteString("\n\n")
	for i, c := range hits {
		fmt.Fprintf(&b, "[%20s]\t", c)
		if i%4 == 3 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n\n")
	switch {
	case len(hits) == 1:
		fmt.Fprintf(&b, "write=%d:%s ", len(partial), hits[0])
	case len(hits) > 1:
		if p := commonPrefix(hits); len(p) > len(partial) {
			fmt.Fprintf(&b, "write=%d:%s", len(partial), p)
		}
	}
	return write(w, b.String())
}

func commonPrefix(s []string) string {
	p := s[0]
	for _, x := range s[1:] {
		for !strings.HasPrefix(x, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
