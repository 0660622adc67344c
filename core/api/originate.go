package api

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core"
)

func init() {
	register("originate", "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]", "Originate a call", apiOriginate)
	register("bgapi", "<api> <args>", "Execute an api command in a thread", apiBgapi)
}

// parseAppSpec parses "&app(args)", "&app:args" and "&app args" (FreeSWITCH accepts all three).
func parseAppSpec(s string) (app, args string) {
	s = strings.TrimPrefix(s, "&")
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i], s[i+1 : len(s)-1]
	}
	if i := strings.IndexAny(s, ": "); i > 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

// parseInline is the inline dialplan's "app:arg,app2:arg2" list.
func parseInline(s string) []core.Action {
	var out []core.Action
	for _, part := range splitUnescaped(s, ',') {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		app, arg, _ := strings.Cut(part, ":")
		out = append(out, core.Action{App: strings.TrimSpace(app), Data: arg, Extension: "inline"})
	}
	return out
}

func splitUnescaped(s string, sep byte) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == sep {
			b.WriteByte(sep)
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(s[i])
	}
	return append(out, b.String())
}

func apiOriginate(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	argv := separate(args, 7)
	if len(argv) < 2 {
		return write(w, "-USAGE: originate <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")
	}
	for i := range argv {
		if strings.EqualFold(argv[i], "undef") {
			argv[i] = ""
		}
	}
	get := func(i int) string {
		if i < len(argv) {
			return argv[i]
		}
		return ""
	}
	dial, exten := argv[0], argv[1]
	dialplan, context := firstNonEmpty(get(2), "XML"), firstNonEmpty(get(3), "default")
	opts := core.OriginateOptions{CallerIDName: get(4), CallerIDNumber: get(5)}
	if n, err := strconv.Atoi(get(6)); err == nil && n > 0 {
		opts.Timeout = time.Duration(n) * time.Second
	}
	leg, err := h.Originate(ctx, dial, opts)
	if err != nil {
		var ce *core.CallError
		cause := core.CauseNormalUnspecified
		if errors.As(err, &ce) {
			cause = ce.Cause
		}
		return write(w, "-ERR "+cause.String()+"\n")
	}
	switch {
	case strings.HasPrefix(exten, "&"):
		app, appArgs := parseAppSpec(exten)
		leg.ExecuteActions([]core.Action{{App: app, Data: appArgs, Extension: exten}})
	case strings.EqualFold(dialplan, "inline"):
		leg.ExecuteActions(parseInline(exten))
	default:
		leg.Transfer(exten, dialplan, context)
	}
	return write(w, "+OK "+leg.UUID()+"\n")
}

func apiBgapi(_ context.Context, h *core.Host, args string, w io.Writer) error {
	args = strings.TrimSpace(args)
	if args == "" {
		return write(w, "-ERR Invalid syntax\n")
	}
	st := state(h)
	id := uuid.NewString()
	h.RunBackground(st.ctx, &st.wg, args, id, "")
	return write(w, "+OK Job-UUID: "+id+"\n")
}
