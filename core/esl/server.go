// Package esl is FreeSWITCH's mod_event_socket: the inbound event socket that fs_cli and ESL
// libraries drive (auth, api, bgapi, events in plain/json/xml, filters, sendmsg, log streaming),
// and the outbound `socket` dialplan application that hands a call to an external program.
package esl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/acl"
	"github.com/goswitch/goswitch/core/netguard"
	"github.com/goswitch/goswitch/core/security"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// ModuleName is the module's FreeSWITCH name.
const ModuleName = "mod_event_socket"

// AuthTimeout is how long a new inbound connection may take to authenticate (FreeSWITCH: 25 s).
const AuthTimeout = 25 * time.Second

func init() {
	core.RegisterModule(core.ModuleInfo{
		Name: ModuleName,
		New: func(h *core.Host) (any, error) {
			cfg, err := ParseConfig(h.Config())
			if err != nil {
				return nil, err
			}
			return NewServer(h, cfg), nil
		},
		Compile: func(snap *xmlconf.Snapshot) (any, error) {
			cfg, err := ParseConfig(snap)
			return cfg, err
		},
	})
	core.RegisterApp(core.AppInfo{
		Name:   "socket",
		Syntax: "<ip>[:<port>] [async] [full]",
		Short:  "Connect to a socket",
		Flags:  core.AppNoMedia,
		App:    core.AppFunc(socketApp),
		Module: ModuleName,
	})
	core.RegisterAPI(core.APIInfo{
		Name:   "esl_status",
		Syntax: "",
		Short:  "Event socket listeners with queued and dropped event counts",
		Fn:     eslStatusAPI,
		Module: ModuleName,
	})
}

// Server is one event socket: the inbound listener and the outbound connections of the socket
// application. Everything it starts is stopped by Stop.
type Server struct {
	h   *core.Host
	cfg Config

	authTimeout atomic.Int64 // nanoseconds
	acls        atomic.Pointer[acl.Set]
	guard       *security.Guard // auth lockout (security.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	acceptFilter atomic.Pointer[func(netip.Addr) bool]

	mu    sync.Mutex
	lns   []net.Listener
	conns map[*conn]struct{}
	next  atomic.Uint64
}

// NewServer builds a server for h with cfg. Start listens on cfg's address; Serve uses a
// listener the caller opened (tests pass 127.0.0.1:0).
func NewServer(h *core.Host, cfg Config) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{h: h, cfg: cfg, ctx: ctx, cancel: cancel, conns: map[*conn]struct{}{}}
	s.authTimeout.Store(int64(AuthTimeout))
	s.compileACL(h.Config())
	s.guard = s.newGuard()
	return s
}

func (s *Server) compileACL(snap *xmlconf.Snapshot) {
	if snap == nil {
		return
	}
	set, err := acl.New(snap)
	if err != nil {
		s.h.Log.Warn("event socket: acl.conf", "err", err)
	}
	if set != nil {
		s.acls.Store(set)
	}
}

// Reload implements core.Reloader: acl.conf changes apply to new connections (reloadacl);
// listener settings take effect at the next start, as in FreeSWITCH.
func (s *Server) Reload(snap *xmlconf.Snapshot) error {
	s.compileACL(snap)
	return nil
}

// SetAuthTimeout changes how long new connections may take to authenticate.
func (s *Server) SetAuthTimeout(d time.Duration) { s.authTimeout.Store(int64(d)) }

// FromHost returns the host's event socket server (the mod_event_socket module instance).
func FromHost(h *core.Host) (*Server, bool) {
	m, ok := h.Module(ModuleName)
	if !ok {
		return nil, false
	}
	s, ok := m.(*Server)
	return s, ok
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Start opens the configured listener (core.Starter). A bind error is logged and, unless
// stop-on-bind-error is set, not fatal, as in FreeSWITCH.
func (s *Server) Start(ctx context.Context) error {
	addr := s.cfg.Addr()
	if s.cfg.ExposedDefaultPassword() {
		if !s.h.Insecure() {
			err := fmt.Errorf("event socket: refusing to listen on %s with the default password %s: set another password in event_socket.conf or listen on 127.0.0.1 (goswitch -insecure overrides)", addr, DefaultPassword)
			s.h.Log.Error(err.Error(), "addr", addr)
			if s.cfg.StopOnBindError {
				return err
			}
			return nil
		}
		s.h.Log.Warn("INSECURE: event socket listens beyond loopback with the default password "+DefaultPassword+" (-insecure)", "addr", addr)
	}
	if s.cfg.ListenIP == "::" {
		addr = ":" + strconv.Itoa(s.cfg.ListenPort)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.h.Log.Error("event socket: cannot bind", "addr", addr, "err", err)
		if s.cfg.StopOnBindError {
			return err
		}
		return nil
	}
	s.h.Log.Info("event socket listening", "addr", ln.Addr().String())
	s.Serve(ln)
	return nil
}

// Serve accepts connections on ln in a goroutine owned by the server.
func (s *Server) Serve(ln net.Listener) {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		_ = ln.Close()
		return
	}
	// The guard caps connections (per source and in total) and retries accept errors such as
	// EMFILE instead of returning them; the auth timeout bounds unauthenticated connections.
	g := netguard.New(ln, netguard.Config{Name: "event socket", Log: s.h.Log,
		MaxConns: s.cfg.MaxConns, MaxPerSource: s.cfg.MaxPerSource})
	if f := s.acceptFilter.Load(); f != nil {
		g.SetAllow(*f)
	}
	ln = g
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				s.h.Log.Warn("event socket accept", "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveInbound(nc)
			}()
		}
	}()
}

// SetAcceptFilter installs f, asked about the source of every new inbound connection; false
// closes it at accept (the hook for a ban list). nil removes it.
func (s *Server) SetAcceptFilter(f func(netip.Addr) bool) {
	if f == nil {
		s.acceptFilter.Store(nil)
	} else {
		s.acceptFilter.Store(&f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.lns {
		if g, ok := ln.(*netguard.Listener); ok {
			g.SetAllow(f)
		}
	}
}

// GuardStats returns the first listener's guard counters (connections held, refused, ...).
func (s *Server) GuardStats() (netguard.Stats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return netguard.Stats{}, false
	}
	g, ok := s.lns[0].(*netguard.Listener)
	if !ok {
		return netguard.Stats{}, false
	}
	return g.Stats(), true
}

// Addr returns the first listening address, or nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

// Stop closes the listener and every connection and waits for their goroutines (core.Stopper).
func (s *Server) Stop(ctx context.Context) error {
	s.cancel()
	s.mu.Lock()
	for _, ln := range s.lns {
		_ = ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// ListenerStat describes one connection for esl_status.
type ListenerStat struct {
	ID         uint64
	Remote     string
	Outbound   bool
	Format     string
	Queued     int
	Dropped    uint64
	LogQueued  int
	LogDropped uint64
	Session    string
	Connected  time.Time
}

// Stats lists the connections with their queue depths and drop counters.
func (s *Server) Stats() []ListenerStat {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	out := make([]ListenerStat, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.stat())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func eslStatusAPI(_ context.Context, h *core.Host, _ string, w io.Writer) error {
	s, ok := FromHost(h)
	if !ok {
		_, err := io.WriteString(w, "-ERR event socket not loaded\n")
		return err
	}
	var b strings.Builder
	b.WriteString("id,remote,mode,format,queued,dropped,log_queued,log_dropped,session,connected\n")
	st := s.Stats()
	for _, l := range st {
		mode := "inbound"
		if l.Outbound {
			mode = "outbound"
		}
		fmt.Fprintf(&b, "%d,%s,%s,%s,%d,%d,%d,%d,%s,%s\n", l.ID, l.Remote, mode, l.Format, l.Queued,
			l.Dropped, l.LogQueued, l.LogDropped, l.Session, l.Connected.Format("2006-01-02 15:04:05"))
	}
	fmt.Fprintf(&b, "\n%d total.\n", len(st))
	if g, ok := s.GuardStats(); ok {
		fmt.Fprintf(&b, "inbound connections: %d open, %d accepted, %d refused (caps %d/%d per source), %d denied, %d accept errors\n",
			g.Active, g.Accepted, g.Refused, s.cfg.MaxConns, s.cfg.MaxPerSource, g.Denied, g.AcceptErrors)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
