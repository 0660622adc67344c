// Package limit is FreeSWITCH's limit subsystem with mod_hash's in-memory backend: the limit and
// limit_execute applications count a channel against a realm/resource pair and refuse it once the
// pair is at its maximum of concurrent channels (or of calls per interval), and the limit_usage,
// limit_hash_usage, limit_status, limit_reset and limit_interval_reset commands read and clear the
// counters. A channel's counts are released when it hangs up, or when it is transferred unless
// limit_ignore_transfer is true.
package limit

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
)

const moduleName = "mod_hash"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: newStore})
	core.RegisterApp(core.AppInfo{Name: "limit", Module: "mod_dptools", Flags: core.AppNoMedia,
		Syntax: "<backend> <realm> <id> [<max>[/<interval>]] [number [dialplan [context]]]",
		Short:  "Limit", App: core.AppFunc(limitApp)})
	core.RegisterApp(core.AppInfo{Name: "limit_execute", Module: "mod_dptools",
		Syntax: "<backend> <realm> <id> <max>[/<interval>] <application> [application arguments]",
		Short:  "Limit", App: core.AppFunc(limitExecute)})
	core.RegisterApp(core.AppInfo{Name: "limit_hash", Module: moduleName, Flags: core.AppNoMedia,
		Syntax: "<realm> <id> [<max>[/<interval>]] [number [dialplan [context]]]",
		Short:  "limit (deprecated)", App: core.AppFunc(func(ctx context.Context, s *core.Session, args string) error {
			return limitApp(ctx, s, "hash "+args)
		})})
	core.RegisterAPI(core.APIInfo{Name: "limit_usage", Module: "mod_commands", Syntax: "<backend> <realm> <id>",
		Short: "Gets the usage count of a limited resource", Fn: apiUsage})
	core.RegisterAPI(core.APIInfo{Name: "limit_hash_usage", Module: moduleName, Syntax: "<realm> <id>",
		Short: "Deprecated: gets the usage count of a limited resource", Fn: func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
			return apiUsage(ctx, h, "hash "+args, w)
		}})
	core.RegisterAPI(core.APIInfo{Name: "limit_status", Module: "mod_commands", Syntax: "<backend>",
		Short: "Gets the status of a limit backend", Fn: apiStatus})
	core.RegisterAPI(core.APIInfo{Name: "limit_reset", Module: "mod_commands", Syntax: "<backend>",
		Short: "Reset the counters of a limit backend", Fn: apiReset})
	core.RegisterAPI(core.APIInfo{Name: "limit_interval_reset", Module: "mod_commands", Syntax: "<backend> <realm> <resource>",
		Short: "Reset the interval counter for a limited resource", Fn: apiIntervalReset})
}

// counter is one realm_resource key: the channels holding it and the interval window.
type counter struct {
	holders     map[string]bool // channel uuids
	rate        int             // calls counted in the current interval
	windowStart time.Time
	interval    time.Duration
}

// store is the hash backend of one Host.
type store struct {
	mu   sync.Mutex
	keys map[string]*counter
	held map[string]map[string]bool // uuid -> keys it holds
}

func newStore(*core.Host) (any, error) {
	return &store{keys: map[string]*counter{}, held: map[string]map[string]bool{}}, nil
}

// storeFor returns h's hash backend, nil when mod_hash is not loaded (modules.conf.xml).
func storeFor(h *core.Host) *store {
	v, _ := h.Module(moduleName)
	st, _ := v.(*store)
	return st
}

func hashKey(realm, resource string) string { return realm + "_" + resource }

// incr counts s against realm/resource. max < 0 means unlimited. It reports false when the
// channel is refused.
func (st *store) incr(s *core.Session, realm, resource string, max int, interval time.Duration) (ok, first bool) {
	key := hashKey(realm, resource)
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.keys[key]
	if c == nil {
		c = &counter{holders: map[string]bool{}}
		st.keys[key] = c
	}
	now := time.Now()
	if interval > 0 {
		if c.interval != interval || now.Sub(c.windowStart) >= interval {
			c.interval, c.windowStart, c.rate = interval, now, 0
		}
		if max >= 0 && c.rate >= max {
			s.SetVar("limit_rate", strconv.Itoa(c.rate))
			return false, false
		}
		c.rate++
		s.SetVar("limit_rate", strconv.Itoa(c.rate))
		s.SetVar("limit_rate_"+key, strconv.Itoa(c.rate))
	} else if !c.holders[s.UUID()] && max >= 0 && len(c.holders) >= max {
		s.SetVar("limit_usage", strconv.Itoa(len(c.holders)))
		return false, false
	}
	c.holders[s.UUID()] = true
	h := st.held[s.UUID()]
	first = h == nil
	if first {
		h = map[string]bool{}
		st.held[s.UUID()] = h
	}
	h[key] = true
	n := strconv.Itoa(len(c.holders))
	s.SetVar("limit_usage", n)
	s.SetVar("limit_usage_"+key, n)
	return true, first
}

// release drops s's hold on one key (realm and resource set) or on all of them.
func (st *store) release(uuid, realm, resource string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.held[uuid]
	for key := range h {
		if realm != "" && key != hashKey(realm, resource) {
			continue
		}
		if c := st.keys[key]; c != nil {
			delete(c.holders, uuid)
			if len(c.holders) == 0 && c.interval == 0 {
				delete(st.keys, key)
			}
		}
		delete(h, key)
	}
	if len(h) == 0 {
		delete(st.held, uuid)
	}
}

func (st *store) usage(realm, resource string) (int, int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.keys[hashKey(realm, resource)]
	if c == nil {
		return 0, 0
	}
	return len(c.holders), c.rate
}

// parseMax reads "<max>[/<interval>]"; "-" or "" is unlimited.
func parseMax(v string) (int, time.Duration) {
	if v == "" || v[0] == '-' {
		return -1, 0
	}
	m, iv, _ := strings.Cut(v, "/")
	max, _ := strconv.Atoi(m)
	if max < 0 {
		max = 0
	}
	sec, _ := strconv.Atoi(iv)
	return max, time.Duration(sec) * time.Second
}

// acquire counts s and, on its first count, adds a state handler that releases the counts at
// hangup, and at a transfer unless limit_ignore_transfer, as FreeSWITCH's limit state handler
// does on CS_ROUTING. The release runs on the session goroutine as the state changes, so the
// count is free before the channel's CHANNEL_HANGUP_COMPLETE.
func acquire(s *core.Session, backend, realm, resource string, max int, interval time.Duration) (bool, error) {
	b := backendFor(s.Host(), backend)
	if b == nil {
		return false, fmt.Errorf("limit subsystem %s not found", backend)
	}
	ok, first := b.Incr(s, realm, resource, max, interval)
	if ok && first {
		s.SetVar("limit_backend", backend)
		s.AddStateHandler(func(s *core.Session, st core.State) bool { return release(b, s, st) })
	}
	return ok, nil
}

// release is the limit state handler: it frees s's counts when s hangs up or is transferred,
// and says whether it is still needed.
func release(b Backend, s *core.Session, st core.State) bool {
	switch {
	case st >= core.StateHangup:
		b.Release(s.UUID(), "", "")
		return false
	case st == core.StateRouting && !core.True(s.Var("limit_ignore_transfer")):
		b.Release(s.UUID(), "", "")
		s.UnsetVar("limit_backend")
		return false
	}
	return true
}

func limitApp(ctx context.Context, s *core.Session, args string) error {
	f := strings.Fields(args)
	if len(f) < 3 {
		s.Log().Warn("USAGE: limit <backend> <realm> <id> [<max>[/<interval>]] [number [dialplan [context]]]")
		return nil
	}
	backend, realm, resource := f[0], f[1], f[2]
	max, interval := -1, time.Duration(0)
	if len(f) > 3 {
		max, interval = parseMax(f[3])
	}
	xfer := "limit_exceeded"
	if len(f) > 4 {
		xfer = f[4]
	}
	ok, err := acquire(s, backend, realm, resource, max, interval)
	if err != nil {
		s.Log().Error(err.Error())
		return nil
	}
	if ok {
		return nil
	}
	s.Log().Info("Usage for " + realm + "_" + resource + " exceeds maximum")
	if strings.HasPrefix(xfer, "!") {
		s.Hangup(core.ParseCause(xfer[1:]))
		return nil
	}
	dp, cx := "", ""
	if len(f) > 5 {
		dp = f[5]
	}
	if len(f) > 6 {
		cx = f[6]
	}
	s.Transfer(xfer, dp, cx)
	return nil
}

func limitExecute(ctx context.Context, s *core.Session, args string) error {
	f := core.SplitArgs(args, 6)
	if len(f) < 5 {
		s.Log().Warn("USAGE: limit_execute <backend> <realm> <id> <max>[/<interval>] <application> [application arguments]")
		return nil
	}
	max, interval := parseMax(f[3])
	ok, err := acquire(s, f[0], f[1], f[2], max, interval)
	if err != nil || !ok {
		return nil
	}
	appArgs := ""
	if len(f) > 5 {
		appArgs = f[5]
	}
	err = s.Execute(ctx, f[4], appArgs)
	if interval == 0 {
		if b := backendFor(s.Host(), f[0]); b != nil {
			b.Release(s.UUID(), f[1], f[2])
		}
	}
	return err
}

func apiUsage(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 3 {
		_, err := io.WriteString(w, "USAGE: limit_usage <backend> <realm> <id>\n")
		return err
	}
	st := storeFor(h)
	if f[0] != "hash" || st == nil {
		if b := backendFor(h, f[0]); b != nil {
			_, err := fmt.Fprintf(w, "%d", b.Usage(f[1], f[2]))
			return err
		}
		_, err := io.WriteString(w, "-ERR Limit subsystem "+f[0]+" not found\n")
		return err
	}
	n, rate := st.usage(f[1], f[2])
	if len(f) > 3 && f[3] == "rate" {
		_, err := fmt.Fprintf(w, "%d/%d", n, rate)
		return err
	}
	_, err := fmt.Fprintf(w, "%d", n)
	return err
}

func apiStatus(_ context.Context, h *core.Host, args string, w io.Writer) error {
	st := storeFor(h)
	if strings.TrimSpace(args) != "hash" || st == nil {
		_, err := io.WriteString(w, "-ERR\n")
		return err
	}
	st.mu.Lock()
	keys := make([]string, 0, len(st.keys))
	for k := range st.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "There are %d elements\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, len(st.keys[k].holders))
	}
	st.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}

func apiReset(_ context.Context, h *core.Host, args string, w io.Writer) error {
	st := storeFor(h)
	if strings.TrimSpace(args) != "hash" || st == nil {
		_, err := io.WriteString(w, "-ERR\n")
		return err
	}
	st.mu.Lock()
	st.keys = map[string]*counter{}
	st.held = map[string]map[string]bool{}
	st.mu.Unlock()
	_, err := io.WriteString(w, "+OK\n")
	return err
}

func apiIntervalReset(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	st := storeFor(h)
	if len(f) < 3 || f[0] != "hash" || st == nil {
		_, err := io.WriteString(w, "-ERR\n")
		return err
	}
	st.mu.Lock()
	if c := st.keys[hashKey(f[1], f[2])]; c != nil {
		c.rate, c.windowStart = 0, time.Now()
	}
	st.mu.Unlock()
	_, err := io.WriteString(w, "+OK\n")
	return err
}
