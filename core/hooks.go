package core

import (
	"context"
	"sort"
	"strings"
)

// runExecuteOn runs FreeSWITCH's execute_on_* hooks: every variable named prefix or prefix_<n>
// holds "app args" to run on the channel (queued to its goroutine).
func (s *Session) runExecuteOn(prefix string) {
	for _, v := range s.hookValues(prefix) {
		app, args, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.Contains(app, "::") { // also accept app::args
			app, args, _ = strings.Cut(v, "::")
		}
		if app == "" {
			continue
		}
		s.Enqueue(func() {
			if err := s.Execute(s.ctx, app, args); err != nil {
				s.log.Warn(prefix+" failed", "app", app, "err", err)
			}
		})
	}
}

// runAPIOn runs FreeSWITCH's api_on_* / api_*_hook variables: "command args" API calls whose output
// is logged.
func (s *Session) runAPIOn(prefix string) {
	for _, v := range s.hookValues(prefix) {
		cmd, args, _ := strings.Cut(strings.TrimSpace(s.Expand(v)), " ")
		if cmd == "" {
			continue
		}
		out, err := s.h.APIOutput(WithSession(context.Background(), s), cmd, args)
		s.log.Debug(prefix, "api", cmd, "output", strings.TrimSpace(out), "err", err)
	}
}

// hookValues returns the values of prefix and prefix_* variables, in name order.
func (s *Session) hookValues(prefix string) []string {
	var names []string
	for _, kv := range s.vars.List() {
		if kv[0] == prefix || strings.HasPrefix(kv[0], prefix+"_") {
			names = append(names, kv[0])
		}
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, s.vars.Value(n))
	}
	return out
}
