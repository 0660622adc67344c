package core

import (
	"context"
	"slices"
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
	var kvs [][2]string // most channels have none: nothing allocated
	s.vars.EachPrefix(prefix, func(name, value string) { kvs = append(kvs, [2]string{name, value}) })
	slices.SortFunc(kvs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, kv[1])
	}
	return out
}
