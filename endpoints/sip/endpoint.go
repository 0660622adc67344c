// Package sip is goswitch's SIP endpoint, registered as "sofia" (module mod_sofia): profiles
// from sofia.conf, UDP/TCP/TLS transports on emiago/sipgo, the registrar with digest auth, B2BUA
// call legs (inbound and outbound), gateways, and the sofia/sofia_contact API commands.
//
// How the rest of goswitch uses it:
//   - cmd/goswitch blank-imports the package; Host.Start starts every profile of sofia.conf
//     (Endpoint.Start), Host.Reload rescans (new profiles start, new gateways appear),
//     Host.Stop closes them. Registrations live in <db dir>/sofia_reg.db (":memory:" without one).
//   - Dial strings: sofia/<profile>/<user>@<host>[:port][;transport=udp|tcp|tls],
//     sofia/<profile>/sip:<uri>, sofia/<profile>/<user>%<domain> (through the registrar) and
//     sofia/gateway/<gw>/<number>.
//   - The user/ endpoint expands the directory dial-string, whose ${sofia_contact(...)} calls the
//     sofia_contact API here ("sofia/internal/sip:1000@1.2.3.4:5060,..." or
//     "error/user_not_registered"); Go code can call (*Endpoint).Contacts directly.
//   - show registrations reads (*Endpoint).Registrations.
//   - Tests bind sip-port 0 and read the real port from (*Endpoint).Profile(name).Addr().
//
// Malformed messages (validate.go, RFC 4475 in testdata/torture): every request is validated
// before its handler and authentication (505, 400 for missing/duplicate/inconsistent headers,
// 416, 420, 415); over UDP, where a datagram is a whole message, requests sipgo cannot parse get
// a stateless 400/505/416 and folded or LWS-laden headers are normalised first. Over TCP what
// sipgo cannot parse closes the connection. Refused and dropped messages are counted in
// DROPPED-MSGS of "sofia status profile <name>".
//
// Brute force and floods (security.go, core/security): failed digest authentications ban their
// source (auth-fail-*), lock a user for sources it never authenticated from (auth-user-*), and
// too many requests from one source ban it (pike-*); banned sources' requests are dropped
// before parsing, unanswered. The bans are the host's (`sofia ban` / `ban` API).
//
// Presence and MWI (subscribe.go, subscriptions.go, notify.go, presence.go, mwi.go), on profiles
// with manage-presence: SUBSCRIBE (RFC 6665, authenticated like INVITE) to message-summary
// (RFC 3842, from the voicemail module's MESSAGE_WAITING), presence (PIDF) and dialog (RFC 4235,
// BLF); subscriptions live in sip_subscriptions of sofia_reg.db. Channel events of channels with
// a presence_id become PRESENCE_IN; PRESENCE_IN from anywhere (the event socket too) reaches the
// watchers. Unsolicited MWI only with send-message-query-on-register. Out-of-dialog MESSAGE,
// NOTIFY and INFO get the INVITE challenge (ooda_auth.go).
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/acl"
	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/core/xmlconf"
)

func init() {
	core.RegisterEndpoint(core.EndpointInfo{Name: "sofia", Module: "mod_sofia", New: New})
	registerAPIs()
}

// Endpoint is the live "sofia" endpoint of a Host: every profile and gateway, the registrar.
type Endpoint struct {
	h   *core.Host
	log *slog.Logger

	mu       sync.RWMutex
	profiles map[string]*Profile
	order    []string
	gateways map[string]*Gateway
	acl      *acl.Set

	acceptFilter atomic.Pointer[func(netip.Addr) bool] // SetAcceptFilter

	db       *store.DB
	regs     *registry
	subs     *subscriptions // SUBSCRIBE dialogs (subscriptions.go)
	presence *presence      // PRESENCE_IN, MWI and BLF NOTIFYs (presence.go, mwi.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the endpoint; Start opens the database and the profiles' sockets.
func New(h *core.Host) (core.Endpoint, error) {
	return &Endpoint{h: h, log: h.Log.With("module", "mod_sofia"), profiles: map[string]*Profile{}, gateways: map[string]*Gateway{}}, nil
}

// Name is the dial-string prefix.
func (e *Endpoint) Name() string { return "sofia" }

// Start opens the registration database, restores registrations and starts every profile.
func (e *Endpoint) Start(ctx context.Context) error {
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.h.Bans != nil && e.acceptFilter.Load() == nil {
		// A banned source's TCP/TLS connections are refused at accept, before a handshake.
		e.SetAcceptFilter(e.h.Bans.Allow)
	}
	path := ":memory:"
	if e.h.Dirs.DB != "" {
		path = filepath.Join(e.h.Dirs.DB, "sofia_reg.db")
	}
	_, maxConns := store.CoreDSN(e.h.Config())
	if dsn := store.SofiaDSN(e.h.Config()); store.IsPostgres(dsn) {
		path = dsn // shared with the other nodes of a cluster
	}
	db, err := store.Open(path, store.Options{MaxConns: maxConns, Log: e.log})
	if err != nil {
		return err
	}
	db.OnError = func(q string, err error) { e.log.Error("registration store write failed", "err", err) }
	e.db = db
	e.regs, err = newRegistry(e, db)
	if err != nil {
		db.Close()
		return err
	}
	e.subs, err = newSubscriptions(e, db, e.nodeName())
	if err != nil {
		db.Close()
		return err
	}
	e.presence = newPresence(e)
	e.listenCluster()
	e.wg.Add(3)
	go func() { defer e.wg.Done(); e.regs.sweep(e.ctx) }()
	go func() { defer e.wg.Done(); e.subs.sweep(e.ctx) }()
	go func() { defer e.wg.Done(); e.presence.run(e.ctx) }()
	return e.apply(e.h.Config(), true)
}

// apply compiles ACLs and starts the profiles of snap that are not running yet.
func (e *Endpoint) apply(snap *xmlconf.Snapshot, failHard bool) error {
	set, aclErr := acl.New(snap)
	if aclErr != nil {
		e.log.Warn("acl.conf", "err", aclErr)
	}
	cfgs, err := parseProfiles(snap)
	if err != nil {
		e.log.Error("sofia.conf", "err", err)
	}
	e.mu.Lock()
	e.acl = set
	e.mu.Unlock()
	var errs []error
	for _, pc := range cfgs {
		e.mu.RLock()
		p, running := e.profiles[pc.Name]
		e.mu.RUnlock()
		if running {
			p.rescan(pc)
			continue
		}
		if err := e.startProfile(pc); err != nil {
			e.log.Error("profile failed to start", "profile", pc.Name, "err", err)
			errs = append(errs, fmt.Errorf("profile %s: %w", pc.Name, err))
		}
	}
	if failHard {
		return errors.Join(errs...)
	}
	return nil
}

func (e *Endpoint) startProfile(pc ProfileConfig) error {
	p, err := newProfile(e, pc)
	if err != nil {
		return err
	}
	if err := p.start(); err != nil {
		return err
	}
	e.mu.Lock()
	e.profiles[pc.Name] = p
	e.order = append(e.order, pc.Name)
	for _, g := range p.gateways {
		e.gateways[g.cfg.Name] = g
	}
	e.mu.Unlock()
	return nil
}

func (e *Endpoint) stopProfile(name string) bool {
	e.mu.Lock()
	p, ok := e.profiles[name]
	if ok {
		delete(e.profiles, name)
		for i, n := range e.order {
			if n == name {
				e.order = append(e.order[:i], e.order[i+1:]...)
				break
			}
		}
		for n, g := range e.gateways {
			if g.p == p {
				delete(e.gateways, n)
			}
		}
	}
	e.mu.Unlock()
	if ok {
		p.stop()
	}
	return ok
}

// Reload applies a new snapshot (reloadxml): new profiles start, running ones rescan gateways.
func (e *Endpoint) Reload(snap *xmlconf.Snapshot) error { return e.apply(snap, false) }

// Stop closes every profile and the database.
func (e *Endpoint) Stop(ctx context.Context) error {
	for _, n := range e.ProfileNames() {
		e.stopProfile(n)
	}
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	if e.subs != nil {
		e.subs.wg.Wait()
	}
	if e.db != nil {
		return e.db.Close()
	}
	return nil
}

// Profile returns a running profile by name.
func (e *Endpoint) Profile(name string) (*Profile, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.profiles[name]
	return p, ok
}

// ProfileNames lists running profiles in start order.
func (e *Endpoint) ProfileNames() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]string(nil), e.order...)
}

// Gateway returns a gateway by name.
func (e *Endpoint) Gateway(name string) (*Gateway, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	g, ok := e.gateways[name]
	return g, ok
}

func (e *Endpoint) gatewayNames() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, len(e.gateways))
	for n := range e.gateways {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ACL returns the compiled acl.conf lists in force.
func (e *Endpoint) ACL() *acl.Set {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.acl
}

// Contacts returns the dial strings of every live registration of user@domain, FreeSWITCH's
// sofia_contact form ("sofia/internal/sip:1000@1.2.3.4:5060"). profile "" or "*" searches all.
func (e *Endpoint) Contacts(profile, user, domain string) []string {
	if e.regs == nil {
		return nil
	}
	var out []string
	for _, r := range e.regs.lookup(user, domain) {
		if profile != "" && profile != "*" && r.Profile != profile {
			continue
		}
		out = append(out, "sofia/"+r.Profile+"/"+r.dialURI())
	}
	return out
}

// Originate starts an outbound leg: "<profile>/<uri>", "gateway/<gw>/<number>" or
// "<profile>/<user>%<domain>" (through the registrar).
func (e *Endpoint) Originate(ctx context.Context, s *core.Session, target string) (core.Leg, error) {
	first, rest, ok := strings.Cut(target, "/")
	if !ok {
		return nil, &core.CallError{Cause: core.CauseInvalidURL, Reason: "bad sofia target " + target}
	}
	if first == "gateway" {
		gw, num, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, &core.CallError{Cause: core.CauseInvalidURL, Reason: "bad gateway target " + target}
		}
		g, found := e.Gateway(gw)
		if !found {
			return nil, &core.CallError{Cause: core.CauseInvalidGateway, Reason: "no gateway " + gw}
		}
		return g.originate(ctx, s, num)
	}
	p, found := e.Profile(first)
	if !found {
		return nil, &core.CallError{Cause: core.CauseInvalidProfile, Reason: "no profile " + first}
	}
	if u, d, ok := strings.Cut(rest, "%"); ok && !strings.Contains(rest, "@") {
		contacts := e.regs.lookup(u, d)
		var mine []*Registration
		for _, r := range contacts {
			if r.Profile == p.cfg.Name {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			return nil, &core.CallError{Cause: core.CauseUserNotRegistered, Reason: u + "@" + d}
		}
		rest = mine[len(mine)-1].dialURI()
	}
	return p.originate(ctx, s, rest, nil)
}

var _ core.Endpoint = (*Endpoint)(nil)
var _ core.Starter = (*Endpoint)(nil)
var _ core.Stopper = (*Endpoint)(nil)
var _ core.Reloader = (*Endpoint)(nil)
