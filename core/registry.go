package core

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// table is one registry: filled from init() functions of modules (the database/sql pattern) and
// read-only afterwards. A duplicate name is a programming error and panics.
type table[T any] struct {
	kind string
	mu   sync.RWMutex
	m    map[string]T
}

func newTable[T any](kind string) *table[T] { return &table[T]{kind: kind, m: map[string]T{}} }

func (t *table[T]) add(name string, v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.m[name]; dup {
		panic("core: duplicate " + t.kind + " " + name)
	}
	t.m[name] = v
}

func (t *table[T]) get(name string) (T, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	v, ok := t.m[name]
	return v, ok
}

// sorted returns every entry ordered by name.
func (t *table[T]) sorted() []T {
	t.mu.RLock()
	names := make([]string, 0, len(t.m))
	for n := range t.m {
		names = append(names, n)
	}
	t.mu.RUnlock()
	sort.Strings(names)
	out := make([]T, 0, len(names))
	for _, n := range names {
		v, _ := t.get(n)
		out = append(out, v)
	}
	return out
}

var (
	apps      = newTable[AppInfo]("application")
	apis      = newTable[APIInfo]("api")
	endpoints = newTable[EndpointInfo]("endpoint")
	dialplans = newTable[DialplanInfo]("dialplan")
	modules   = newTable[ModuleInfo]("module")
)

// AppFlags describe how an application may run.
type AppFlags uint16

const (
	// AppNoMedia marks apps that run without media, so they don't pre-answer an unanswered inbound
	// call (set, answer, hangup, bridge, transfer, ...).
	AppNoMedia AppFlags = 1 << iota
	// AppRoutingSafe marks apps that may run inline during the dialplan hunt.
	AppRoutingSafe
	// AppNoLoopback marks apps that must not run on a loopback half: a loopback channel whose
	// extension holds one hands the extension to the real channel it serves and leaves
	// (FreeSWITCH's SAF_NO_LOOPBACK: unloop, rxfax).
	AppNoLoopback
)

// App is a dialplan application.
type App interface {
	Exec(ctx context.Context, s *Session, args string) error
}

// AppFunc adapts a function to App.
type AppFunc func(ctx context.Context, s *Session, args string) error

// Exec calls f.
func (f AppFunc) Exec(ctx context.Context, s *Session, args string) error { return f(ctx, s, args) }

// AppInfo registers an application.
type AppInfo struct {
	Name   string
	Syntax string
	Short  string
	Flags  AppFlags
	App    App
	Module string // e.g. mod_dptools, for show application
}

// RegisterApp adds an application; call it from init().
func RegisterApp(info AppInfo) { apps.add(info.Name, info) }

// LookupApp returns the application registered under name.
func LookupApp(name string) (AppInfo, bool) { return apps.get(name) }

// Apps returns every registered application sorted by name.
func Apps() []AppInfo { return apps.sorted() }

// APIFunc runs a console/event-socket command and writes its output to w. A session, when the
// command runs inside an expansion on a channel, is available through SessionFromContext(ctx).
type APIFunc func(ctx context.Context, h *Host, args string, w io.Writer) error

// APIInfo registers an API command.
type APIInfo struct {
	Name   string
	Syntax string
	Short  string
	Fn     APIFunc
	Module string
}

// RegisterAPI adds an API command; call it from init().
func RegisterAPI(info APIInfo) { apis.add(info.Name, info) }

// LookupAPI returns the API command registered under name.
func LookupAPI(name string) (APIInfo, bool) { return apis.get(name) }

// APIs returns every registered API command sorted by name.
func APIs() []APIInfo { return apis.sorted() }

// EndpointInfo registers an endpoint (a dial-string prefix such as "sofia" or "loopback").
type EndpointInfo struct {
	Name   string
	Module string
	New    func(h *Host) (Endpoint, error)
}

// RegisterEndpoint adds an endpoint; call it from init().
func RegisterEndpoint(info EndpointInfo) { endpoints.add(info.Name, info) }

// Endpoints returns every registered endpoint sorted by name.
func Endpoints() []EndpointInfo { return endpoints.sorted() }

// DialplanInfo registers a dialplan ("XML").
type DialplanInfo struct {
	Name string
	New  func(h *Host) (Dialplan, error)
	// Compile, when set, runs at every config load; its result is attached to the snapshot under
	// "dialplan/"+Name and an error fails the load (reloadxml keeps the old config).
	Compile func(snap *xmlconf.Snapshot) (any, error)
}

// RegisterDialplan adds a dialplan; call it from init().
func RegisterDialplan(info DialplanInfo) { dialplans.add(info.Name, info) }

// Dialplans returns every registered dialplan sorted by name.
func Dialplans() []DialplanInfo { return dialplans.sorted() }

// ModuleInfo registers a module that is neither app, API, endpoint nor dialplan on its own: the
// event socket, CDR writers. New builds it; lifecycle comes from the optional interfaces Starter,
// Stopper and Reloader.
type ModuleInfo struct {
	Name string // FreeSWITCH module name, e.g. mod_event_socket
	New  func(h *Host) (any, error)
	// Compile, when set, validates this module's configuration at every config load.
	Compile func(snap *xmlconf.Snapshot) (any, error)
}

// RegisterModule adds a module; call it from init().
func RegisterModule(info ModuleInfo) { modules.add(info.Name, info) }

// Modules returns every registered module sorted by name.
func Modules() []ModuleInfo { return modules.sorted() }

// Starter is implemented by modules and endpoints that open sockets or start goroutines.
type Starter interface {
	Start(ctx context.Context) error
}

// Stopper is implemented by modules and endpoints that must release resources.
type Stopper interface {
	Stop(ctx context.Context) error
}

// Reloader is implemented by modules that react to reloadxml.
type Reloader interface {
	Reload(snap *xmlconf.Snapshot) error
}

// Endpoint creates outbound legs for its dial-string prefix.
type Endpoint interface {
	Name() string
	// Originate starts an outbound leg for s (already created by the core, in CS_INIT, with its
	// variables and caller profile) towards target (the dial string after "name/"). It returns
	// once the attempt is under way; progress, answer and failure are reported on s
	// (SignalProgress, SignalAnswer, Hangup). An endpoint whose far end can answer 183 before
	// Originate returns must s.SetLeg(leg) first: the bridge joins early media through the leg.
	Originate(ctx context.Context, s *Session, target string) (Leg, error)
}

// Resolver is implemented by endpoints whose targets stand for other dial strings (user/,
// group/): the core originates the returned dial string in the target's place.
type Resolver interface {
	Resolve(ctx context.Context, target string, vars *Vars) (dialString string, err error)
}

// APIOutput runs an API command and returns its output, for ${api(args)} expansion.
func (h *Host) APIOutput(ctx context.Context, cmd, args string) (string, error) {
	info, ok := LookupAPI(cmd)
	if !ok {
		return "", fmt.Errorf("%s Command not found", cmd)
	}
	var b strings.Builder
	err := info.Fn(ctx, h, args, &b)
	return b.String(), err
}
