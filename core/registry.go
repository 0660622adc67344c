package core

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// Registries are filled from init() functions of modules (the database/sql pattern) and read-only
// afterwards. A duplicate name is a programming error and panics.
var registry = struct {
	sync.RWMutex
	apps      map[string]AppInfo
	apis      map[string]APIInfo
	endpoints map[string]EndpointInfo
	dialplans map[string]DialplanInfo
	modules   map[string]ModuleInfo
}{
	apps:      map[string]AppInfo{},
	apis:      map[string]APIInfo{},
	endpoints: map[string]EndpointInfo{},
	dialplans: map[string]DialplanInfo{},
	modules:   map[string]ModuleInfo{},
}

// AppFlags describe how an application may run.
type AppFlags uint16

const (
	// AppNoMedia marks apps that run without media, so they don't pre-answer an unanswered inbound
	// call (set, answer, hangup, bridge, transfer, ...).
	AppNoMedia AppFlags = 1 << iota
	// AppRoutingSafe marks apps that may run inline during the dialplan hunt.
	AppRoutingSafe
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
func RegisterApp(info AppInfo) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.apps[info.Name]; dup {
		panic("core: duplicate application " + info.Name)
	}
	registry.apps[info.Name] = info
}

// LookupApp returns the application registered under name.
func LookupApp(name string) (AppInfo, bool) {
	registry.RLock()
	defer registry.RUnlock()
	a, ok := registry.apps[name]
	return a, ok
}

// Apps returns every registered application sorted by name.
func Apps() []AppInfo {
	registry.RLock()
	out := make([]AppInfo, 0, len(registry.apps))
	for _, a := range registry.apps {
		out = append(out, a)
	}
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

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
func RegisterAPI(info APIInfo) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.apis[info.Name]; dup {
		panic("core: duplicate api " + info.Name)
	}
	registry.apis[info.Name] = info
}

// LookupAPI returns the API command registered under name.
func LookupAPI(name string) (APIInfo, bool) {
	registry.RLock()
	defer registry.RUnlock()
	a, ok := registry.apis[name]
	return a, ok
}

// APIs returns every registered API command sorted by name.
func APIs() []APIInfo {
	registry.RLock()
	out := make([]APIInfo, 0, len(registry.apis))
	for _, a := range registry.apis {
		out = append(out, a)
	}
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EndpointInfo registers an endpoint (a dial-string prefix such as "sofia" or "loopback").
type EndpointInfo struct {
	Name   string
	Module string
	New    func(h *Host) (Endpoint, error)
}

// RegisterEndpoint adds an endpoint; call it from init().
func RegisterEndpoint(info EndpointInfo) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.endpoints[info.Name]; dup {
		panic("core: duplicate endpoint " + info.Name)
	}
	registry.endpoints[info.Name] = info
}

// Endpoints returns every registered endpoint sorted by name.
func Endpoints() []EndpointInfo {
	registry.RLock()
	out := make([]EndpointInfo, 0, len(registry.endpoints))
	for _, e := range registry.endpoints {
		out = append(out, e)
	}
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DialplanInfo registers a dialplan ("XML").
type DialplanInfo struct {
	Name string
	New  func(h *Host) (Dialplan, error)
	// Compile, when set, runs at every config load; its result is attached to the snapshot under
	// "dialplan/"+Name and an error fails the load (reloadxml keeps the old config).
	Compile func(snap *xmlconf.Snapshot) (any, error)
}

// RegisterDialplan adds a dialplan; call it from init().
func RegisterDialplan(info DialplanInfo) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.dialplans[info.Name]; dup {
		panic("core: duplicate dialplan " + info.Name)
	}
	registry.dialplans[info.Name] = info
}

// Dialplans returns every registered dialplan sorted by name.
func Dialplans() []DialplanInfo {
	registry.RLock()
	out := make([]DialplanInfo, 0, len(registry.dialplans))
	for _, d := range registry.dialplans {
		out = append(out, d)
	}
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

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
func RegisterModule(info ModuleInfo) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.modules[info.Name]; dup {
		panic("core: duplicate module " + info.Name)
	}
	registry.modules[info.Name] = info
}

// Modules returns every registered module sorted by name.
func Modules() []ModuleInfo {
	registry.RLock()
	out := make([]ModuleInfo, 0, len(registry.modules))
	for _, m := range registry.modules {
		out = append(out, m)
	}
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

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
	// (SignalProgress, SignalAnswer, Hangup).
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
	var b stringsBuilder
	err := info.Fn(ctx, h, args, &b)
	return b.String(), err
}

// stringsBuilder is a strings.Builder that satisfies io.Writer without exposing WriteRune etc.
type stringsBuilder struct{ buf []byte }

func (b *stringsBuilder) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	return len(p), nil
}
func (b *stringsBuilder) String() string { return string(b.buf) }
