package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/security"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Dirs are the directories FreeSWITCH exposes as $${..._dir} globals.
type Dirs struct {
	Base, Conf, Log, DB, Run, Sounds, Storage, Recordings, Certs, Scripts, Temp string
}

// HostOptions configure a Host.
type HostOptions struct {
	Log      *slog.Logger
	LogLevel *slog.LevelVar
	Dirs     Dirs
	// Load reads the configuration; Reload calls it again. It must not have side effects.
	Load       func() (*xmlconf.Snapshot, error)
	Switchname string
	Hostname   string
	IPv4, IPv6 string
	Version    string
	// Insecure (goswitch -insecure) turns the refusal of unsafe defaults (directory password
	// 1234 from public addresses, ESL password ClueCon off loopback) into loud warnings.
	Insecure bool
}

// Host is what modules receive: the config, the event bus, the session table and the registries'
// live instances. Two Hosts in one process do not share anything but the registries.
type Host struct {
	Log      *slog.Logger
	LogLevel *slog.LevelVar
	Bus      *event.Bus
	Clock    *media.SoftClock // shared media clock for every port and app
	Bans     *security.Table  // banned sources, shared by every SIP profile and the event socket
	Dirs     Dirs
	Version  string
	CoreUUID string
	Started  time.Time

	opts   HostOptions
	config atomic.Pointer[xmlconf.Snapshot]

	globalsMu sync.RWMutex
	globals   map[string]string

	mu        sync.RWMutex
	sessions  map[string]*Session
	endpoints map[string]Endpoint
	dialplans map[string]Dialplan
	modules   []moduleInstance
	reporting []func(*Session)

	sessionsSinceStart atomic.Uint64
	peak               atomic.Int64
	maxSessions        atomic.Int64
	sps                atomic.Int64
	paused             atomic.Bool
	spsWindow          spsCounter
	adm                admission
	rtp                rtpTotals // RTP counters of ended calls (rtpvars.go)
}

type moduleInstance struct {
	name string
	v    any
}

// NewHost loads the configuration and builds the registered modules' instances; Start starts them.
func NewHost(opts HostOptions) (*Host, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.LogLevel == nil {
		opts.LogLevel = new(slog.LevelVar)
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.Switchname == "" {
		opts.Switchname = opts.Hostname
	}
	if opts.Version == "" {
		opts.Version = "goswitch"
	}
	h := &Host{
		Log:       opts.Log,
		LogLevel:  opts.LogLevel,
		Dirs:      opts.Dirs,
		Version:   opts.Version,
		CoreUUID:  uuid.NewString(),
		Started:   time.Now(),
		opts:      opts,
		globals:   map[string]string{},
		sessions:  map[string]*Session{},
		endpoints: map[string]Endpoint{},
		dialplans: map[string]Dialplan{},
	}
	h.Bus = event.NewBus(event.Identity{
		CoreUUID: h.CoreUUID, Hostname: opts.Hostname, Switchname: opts.Switchname,
		IPv4: opts.IPv4, IPv6: opts.IPv6,
	})
	h.Clock = media.NewSoftClock(0)
	h.Bans = security.NewTable(opts.Log, h.Bus)
	h.maxSessions.Store(1000)
	h.sps.Store(30)
	h.adm.init()
	h.adm.admittedRate = h.lastSecondSessions
	if opts.Load == nil {
		return nil, errors.New("core: HostOptions.Load is required")
	}
	snap, err := h.load()
	if err != nil {
		return nil, err
	}
	h.swap(snap)
	for _, info := range Dialplans() {
		if info.New == nil {
			continue
		}
		dp, err := info.New(h)
		if err != nil {
			return nil, fmt.Errorf("dialplan %s: %w", info.Name, err)
		}
		h.dialplans[info.Name] = dp
	}
	loaded, gated := LoadedModules(snap)
	enabled := func(module string) bool { return !gated || module == "" || loaded[module] }
	for _, info := range Endpoints() {
		if !enabled(info.Module) {
			continue
		}
		ep, err := info.New(h)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", info.Name, err)
		}
		h.endpoints[info.Name] = ep
	}
	for _, info := range Modules() {
		if info.New == nil || !enabled(info.Name) {
			continue
		}
		m, err := info.New(h)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", info.Name, err)
		}
		if m != nil {
			h.modules = append(h.modules, moduleInstance{info.Name, m})
		}
	}
	return h, nil
}

// LoadedModules returns the modules named by <load module="..."/> in modules.conf (and the
// pre_load/post_load lists), and whether such a list exists. Like FreeSWITCH, a configuration with
// a module list starts only the listed endpoints and modules; without one (small test trees)
// everything built in starts.
func LoadedModules(snap *xmlconf.Snapshot) (map[string]bool, bool) {
	set := map[string]bool{}
	found := false
	for _, name := range []string{"pre_load_modules.conf", "modules.conf", "post_load_modules.conf"} {
		el := snap.Configuration(name)
		if el == nil {
			continue
		}
		found = true
		for _, l := range el.FindElements(".//load") {
			if m := l.SelectAttrValue("module", ""); m != "" {
				set[m] = true
			}
		}
	}
	return set, found
}

// load reads the configuration and runs every compiler, without publishing anything.
func (h *Host) load() (*xmlconf.Snapshot, error) {
	snap, err := h.opts.Load()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, info := range Dialplans() {
		if info.Compile == nil {
			continue
		}
		v, err := info.Compile(snap)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		snap.Attach("dialplan/"+info.Name, v)
	}
	for _, info := range Modules() {
		if info.Compile == nil {
			continue
		}
		v, err := info.Compile(snap)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		snap.Attach("module/"+info.Name, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return snap, nil
}

func (h *Host) swap(snap *xmlconf.Snapshot) {
	h.config.Store(snap)
	g := snap.Globals()
	h.globalsMu.Lock()
	for k, v := range g {
		h.globals[k] = v
	}
	h.globalsMu.Unlock()
	if v, ok := snap.Global("max_sessions"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			h.maxSessions.Store(int64(n))
		}
	}
	if sw := snap.Configuration("switch.conf"); sw != nil {
		for _, p := range sw.FindElements("settings/param") {
			name, val := p.SelectAttrValue("name", ""), p.SelectAttrValue("value", "")
			switch name {
			case "max-sessions":
				if n, err := strconv.Atoi(val); err == nil && n > 0 {
					h.maxSessions.Store(int64(n))
				}
			case "sessions-per-second":
				if n, err := strconv.Atoi(val); err == nil && n > 0 {
					h.sps.Store(int64(n))
				}
			default:
				h.adm.configure(name, val)
			}
		}
	}
}

// Config returns the configuration snapshot in force.
func (h *Host) Config() *xmlconf.Snapshot { return h.config.Load() }

// Insecure reports whether the host runs with -insecure: unsafe defaults warn instead of refusing.
func (h *Host) Insecure() bool { return h.opts.Insecure }

// Reload re-reads the configuration (reloadxml). On any error the old snapshot stays live and the
// error says what is wrong where.
func (h *Host) Reload() error {
	snap, err := h.load()
	if err != nil {
		h.Log.Error("reloadxml failed, keeping the previous configuration", "err", err)
		return err
	}
	h.swap(snap)
	var errs []error
	h.mu.RLock()
	for _, ep := range h.endpoints {
		if r, ok := ep.(Reloader); ok {
			if err := r.Reload(snap); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ep.Name(), err))
			}
		}
	}
	for _, m := range h.modules {
		if r, ok := m.v.(Reloader); ok {
			if err := r.Reload(snap); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
			}
		}
	}
	h.mu.RUnlock()
	h.Bus.Publish(h.Bus.New(event.ReloadXML, ""))
	return errors.Join(errs...)
}

// Start starts endpoints and modules that implement Starter.
func (h *Host) Start(ctx context.Context) error {
	for _, ep := range h.endpointList() {
		if s, ok := ep.(Starter); ok {
			if err := s.Start(ctx); err != nil {
				return fmt.Errorf("endpoint %s: %w", ep.Name(), err)
			}
		}
	}
	for _, m := range h.modules {
		if s, ok := m.v.(Starter); ok {
			if err := s.Start(ctx); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
	}
	h.adm.startLagMonitor(h.SessionCount)
	h.Bus.Publish(h.Bus.New(event.Startup, ""))
	return nil
}

// Stop hangs up every call with cause and stops modules and endpoints in reverse order.
func (h *Host) Stop(ctx context.Context, cause Cause) error {
	h.Bus.Publish(h.Bus.New(event.Shutdown, ""))
	h.HangupAll(cause, nil)
	h.waitSessions(ctx)
	var errs []error
	for i := len(h.modules) - 1; i >= 0; i-- {
		if s, ok := h.modules[i].v.(Stopper); ok {
			if err := s.Stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, ep := range h.endpointList() {
		if s, ok := ep.(Stopper); ok {
			if err := s.Stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	h.adm.stopLagMonitor()
	h.Clock.Close()
	return errors.Join(errs...)
}

// Drain refuses new calls and waits until every call has ended or ctx is done.
func (h *Host) Drain(ctx context.Context) {
	h.paused.Store(true)
	h.waitSessions(ctx)
}

func (h *Host) waitSessions(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for h.SessionCount() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Host) endpointList() []Endpoint {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Endpoint, 0, len(h.endpoints))
	for _, ep := range h.endpoints {
		out = append(out, ep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Endpoint returns the live endpoint for a dial-string prefix.
func (h *Host) Endpoint(name string) (Endpoint, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ep, ok := h.endpoints[name]
	return ep, ok
}

// Module returns the live instance of a module registered with RegisterModule.
func (h *Host) Module(name string) (any, bool) {
	for _, m := range h.modules {
		if m.name == name {
			return m.v, true
		}
	}
	return nil, false
}

// Dialplan returns the live dialplan by name ("XML").
func (h *Host) Dialplan(name string) (Dialplan, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for n, dp := range h.dialplans {
		if strings.EqualFold(n, name) {
			return dp, true
		}
	}
	return nil, false
}

// OnReporting registers a function run for every channel in CS_REPORTING (CDR writers), before
// CHANNEL_HANGUP_COMPLETE is published. It runs on the session goroutine and must not block long.
func (h *Host) OnReporting(fn func(*Session)) {
	h.mu.Lock()
	h.reporting = append(h.reporting, fn)
	h.mu.Unlock()
}

func (h *Host) reportingHooks() []func(*Session) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.reporting
}

// Global returns a global variable ($${name}, set_global, vars.xml).
func (h *Host) Global(name string) (string, bool) {
	h.globalsMu.RLock()
	defer h.globalsMu.RUnlock()
	v, ok := h.globals[name]
	return v, ok
}

// SetGlobal sets a global variable; an empty value unsets it.
func (h *Host) SetGlobal(name, value string) {
	h.globalsMu.Lock()
	defer h.globalsMu.Unlock()
	if value == "" {
		delete(h.globals, name)
		return
	}
	h.globals[name] = value
}

// Globals returns a copy of the global variables.
func (h *Host) Globals() map[string]string {
	h.globalsMu.RLock()
	defer h.globalsMu.RUnlock()
	out := make(map[string]string, len(h.globals))
	for k, v := range h.globals {
		out[k] = v
	}
	return out
}

// Expand expands a template with no channel: ${var} resolves to globals.
func (h *Host) Expand(ctx context.Context, tmpl string) string {
	x := Expander{
		Var:    h.Global,
		Global: h.Global,
		API: func(cmd, args string) string {
			out, _ := h.APIOutput(ctx, cmd, args)
			return out
		},
	}
	return x.Expand(tmpl)
}
