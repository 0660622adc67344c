// Package api holds the console and event-socket commands of FreeSWITCH's mod_commands (status,
// show, originate, uuid_*, fsctl, the expansion helpers, ...) with FreeSWITCH's output formats.
// Commands register themselves in core's API registry; the module "mod_commands" holds per-host
// state (the hash API's table, background jobs).
package api

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
)

// ModuleName is the FreeSWITCH module these commands belong to.
const ModuleName = "mod_commands"

// CompatVersion is the FreeSWITCH release whose behaviour goswitch follows; `version short`
// prints it so tools that gate features on the version keep working.
const CompatVersion = "1.10.12"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: ModuleName, New: func(h *core.Host) (any, error) {
		ctx, cancel := context.WithCancel(context.Background())
		return &State{h: h, ctx: ctx, cancel: cancel, hash: map[string]string{}}, nil
	}})
}

// register adds one command to core's registry; each file of the package registers its own
// commands from init.
func register(name, syntax, short string, fn core.APIFunc) {
	core.RegisterAPI(core.APIInfo{Name: name, Syntax: syntax, Short: short, Fn: fn, Module: ModuleName})
}

// State is the per-host state of mod_commands: the `hash` table, background jobs and the peak
// sessions-per-second seen. Stop cancels and waits for background jobs.
type State struct {
	h      *core.Host
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	hash    map[string]string
	peakSPS int64
	cpu     cpuSample

	sched scheduler // sched_api tasks (sched.go)
}

// Stop implements core.Stopper.
func (st *State) Stop(ctx context.Context) error {
	st.cancel()
	st.sched.stop()
	done := make(chan struct{})
	go func() { st.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// state returns the host's mod_commands instance. A host built without the module (a test that
// registers modules after NewHost) gets a private one.
func state(h *core.Host) *State {
	if m, ok := h.Module(ModuleName); ok {
		if st, ok := m.(*State); ok {
			return st
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &State{h: h, ctx: ctx, cancel: cancel, hash: map[string]string{}}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func write(w io.Writer, s string) error {
	_, err := io.WriteString(w, s)
	return err
}

func writef(w io.Writer, format string, args ...any) error {
	_, err := fmt.Fprintf(w, format, args...)
	return err
}

// separate is switch_separate_string (core.SplitArgs).
func separate(s string, max int) []string { return core.SplitArgs(s, max) }

// session finds a live channel.
func session(h *core.Host, id string) (*core.Session, bool) {
	if id == "" {
		return nil, false
	}
	return h.Session(id)
}

// onSession runs fn on the channel's goroutine and waits (up to timeout) for it to finish.
func onSession(s *core.Session, timeout time.Duration, fn func()) bool {
	done := make(chan struct{})
	if !s.Enqueue(func() { defer close(done); fn() }) {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-s.Done():
		return false
	case <-t.C:
		return false
	}
}

// unquote removes one pair of surrounding single quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}
