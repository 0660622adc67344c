package security

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Policy configures a Guard. A zero count turns that defence off.
type Policy struct {
	Service string // "sip/internal", "esl": the service= of log lines and bans

	FailMax    int           // failed authentications from one source within
	FailWindow time.Duration // this window ban the source
	BanTime    time.Duration // for this long (0: until lifted)

	// Failures for one user from sources that never authenticated as that user, within
	// UserFailWindow, lock the user for such sources for UserLockTime, doubling with each
	// further lock up to 64 times. Sources the user authenticated from are never locked out.
	UserFailMax    int
	UserFailWindow time.Duration
	UserLockTime   time.Duration

	PikeMax      int           // more requests than this from one source within
	PikeWindow   time.Duration // this window ban the source
	PikeBlock    time.Duration // for this long
	PikeLoopback bool          // rate-limit loopback sources too (by default they are exempt)

	// Trusted sources (a trusted ACL) are never banned automatically, nor rate-limited.
	Trusted func(netip.Addr) bool
}

// SetParam applies one of the lockout and rate-limit params every listener's config shares
// (auth-fail-max, auth-fail-window, auth-ban-time, auth-user-fail-max, auth-user-fail-window,
// auth-user-lock-time, pike-max-requests, pike-window, pike-block-time; times in seconds) and
// reports whether name is one of them.
func (p *Policy) SetParam(name string, n int) bool {
	secs := time.Duration(n) * time.Second
	switch name {
	case "auth-fail-max":
		p.FailMax = n
	case "auth-fail-window":
		p.FailWindow = secs
	case "auth-ban-time":
		p.BanTime = secs
	case "auth-user-fail-max":
		p.UserFailMax = n
	case "auth-user-fail-window":
		p.UserFailWindow = secs
	case "auth-user-lock-time":
		p.UserLockTime = secs
	case "pike-max-requests":
		p.PikeMax = n
	case "pike-window":
		p.PikeWindow = secs
	case "pike-block-time":
		p.PikeBlock = secs
	default:
		return false
	}
	return true
}

// IsParam reports whether name is one of the params SetParam takes.
func IsParam(name string) bool { var p Policy; return p.SetParam(name, 0) }

// DefaultPolicy is the lockout every listener has unless configured otherwise: 5 failures in
// 60 s ban a source for 15 minutes; 10 failures for a user within 10 minutes lock that user for
// 1 minute (then 2, 4, ...) from sources it never authenticated from. Pike is off here; SIP
// profiles turn it on.
func DefaultPolicy(service string) Policy {
	return Policy{Service: service,
		FailMax: 5, FailWindow: time.Minute, BanTime: 15 * time.Minute,
		UserFailMax: 10, UserFailWindow: 10 * time.Minute, UserLockTime: time.Minute,
	}
}

// Stats are a guard's counters.
type Stats struct {
	AuthFailures, AuthSuccesses uint64
	Bans, FloodBans             uint64 // bans this guard issued for failures / for floods
	UserLocks                   uint64
	Refused                     uint64 // requests and connections refused from banned sources
}

// Guard applies one Policy for one listener (a SIP profile, the event socket) and bans into
// the shared Table. It starts no goroutine: state expires lazily and is swept as it is used.
type Guard struct {
	t   *Table
	pol Policy
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	src       map[netip.Addr]*window
	pike      map[netip.Addr]*window
	users     map[string]*userState
	lastSweep time.Time

	authFail, authOK, bans, floodBans, userLocks, refused atomic.Uint64
}

type window struct {
	start time.Time
	n     int
}

// hit counts one event in a fixed window of length w and returns the count.
func (wd *window) hit(now time.Time, w time.Duration) int {
	if wd.n == 0 || now.Sub(wd.start) >= w {
		wd.start, wd.n = now, 0
	}
	wd.n++
	return wd.n
}

type userState struct {
	fail        window
	lockedUntil time.Time
	locks       int
	known       map[netip.Addr]time.Time // sources that authenticated as this user
}

// maxKnown bounds the remembered sources per user; the least recent is forgotten.
const maxKnown = 32

// NewGuard returns a guard applying pol, banning into t and logging SECURITY lines to log.
func NewGuard(t *Table, pol Policy, log *slog.Logger) *Guard {
	return &Guard{t: t, pol: pol, log: limited(log), now: time.Now,
		src: map[netip.Addr]*window{}, pike: map[netip.Addr]*window{}, users: map[string]*userState{}}
}

// Policy returns the guard's policy.
func (g *Guard) Policy() Policy { return g.pol }

// Table returns the ban table the guard bans into.
func (g *Guard) Table() *Table { return g.t }

func (g *Guard) trusted(a netip.Addr) bool { return g.pol.Trusted != nil && g.pol.Trusted(a) }

// Request is called for every request (or new connection) from a: false means drop it without
// an answer, because a is banned or has just exceeded the rate limit.
func (g *Guard) Request(a netip.Addr) bool {
	a = a.Unmap()
	k := Key(a)
	if g.t.Refuse(a) {
		g.refused.Add(1)
		return false
	}
	if g.pol.PikeMax <= 0 || g.pol.PikeWindow <= 0 || (a.IsLoopback() && !g.pol.PikeLoopback) {
		return true
	}
	now := g.now()
	g.mu.Lock()
	g.sweep(now)
	w := g.pike[k]
	if w == nil {
		w = &window{}
		g.pike[k] = w
	}
	n := w.hit(now, g.pol.PikeWindow)
	g.mu.Unlock()
	if n <= g.pol.PikeMax || g.trusted(a) {
		return true
	}
	g.refused.Add(1)
	if g.t.Ban(a, g.pol.PikeBlock, "flood", g.pol.Service, "") {
		g.floodBans.Add(1)
		g.mu.Lock()
		delete(g.pike, k)
		g.mu.Unlock()
	}
	return false
}

// Allow is Request in the form a listener guard takes (func(netip.Addr) bool).
func (g *Guard) Allow(a netip.Addr) bool { return g.Request(a) }

// Banned reports whether a is banned now.
func (g *Guard) Banned(a netip.Addr) bool { return g.t.Banned(a) }

// UserLocked reports whether user is locked for a: failures from strangers locked it and a is
// not a source it authenticated from. The caller refuses without checking the password (with
// the answer a wrong password gets) and reports the refusal with Failure(..., "user-locked").
func (g *Guard) UserLocked(user string, a netip.Addr) bool {
	if g.pol.UserFailMax <= 0 {
		return false
	}
	a = a.Unmap()
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users[userKey(user)]
	if u == nil || !now.Before(u.lockedUntil) {
		return false
	}
	_, known := u.known[a]
	return !known
}

// Failure records a failed authentication from a as user (any name, known or not, so the
// directory cannot be probed through the lockout) and reports whether a is now banned.
func (g *Guard) Failure(a netip.Addr, user, reason string) bool {
	a = a.Unmap()
	g.authFail.Add(1)
	Log(g.log, slog.LevelWarn, "auth-failure", a, user, g.pol.Service, reason, "")
	if g.trusted(a) {
		return false
	}
	now := g.now()
	k := Key(a)
	g.mu.Lock()
	g.sweep(now)
	n := 0
	if g.pol.FailMax > 0 {
		w := g.src[k]
		if w == nil {
			w = &window{}
			g.src[k] = w
		}
		n = w.hit(now, g.pol.FailWindow)
		if n >= g.pol.FailMax {
			delete(g.src, k)
		}
	}
	var lock time.Duration
	if g.pol.UserFailMax > 0 && user != "" {
		u := g.users[userKey(user)]
		if u == nil {
			u = &userState{}
			g.users[userKey(user)] = u
		}
		if _, known := u.known[a]; !known {
			if u.fail.hit(now, g.pol.UserFailWindow) >= g.pol.UserFailMax && !now.Before(u.lockedUntil) {
				if now.Sub(u.lockedUntil) > g.pol.UserFailWindow {
					u.locks = 0 // quiet for a window: start the back-off again
				}
				lock = g.pol.UserLockTime << min(u.locks, 6)
				u.locks++
				u.lockedUntil = now.Add(lock)
				u.fail = window{}
			}
		}
	}
	g.mu.Unlock()
	if lock > 0 {
		g.userLocks.Add(1)
		Log(g.log, slog.LevelWarn, "user-locked", a, user, g.pol.Service, "auth-failures",
			"secs="+strconv.Itoa(int(lock/time.Second)))
	}
	if g.pol.FailMax > 0 && n >= g.pol.FailMax {
		if g.t.Ban(a, g.pol.BanTime, "auth-failures", g.pol.Service, user) {
			g.bans.Add(1)
		}
		return true
	}
	return g.t.Banned(a)
}

// Success records that a authenticated as user: from then on the user's lockout spares a.
func (g *Guard) Success(a netip.Addr, user string) {
	a = a.Unmap()
	g.authOK.Add(1)
	if g.pol.UserFailMax <= 0 || user == "" {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	k := userKey(user)
	u := g.users[k]
	if u == nil {
		g.sweep(now)
		u = &userState{}
		g.users[k] = u
	}
	if u.known == nil {
		u.known = map[netip.Addr]time.Time{}
	}
	if _, ok := u.known[a]; !ok && len(u.known) >= maxKnown {
		var oldest netip.Addr
		var ot time.Time
		for s, t := range u.known {
			if ot.IsZero() || t.Before(ot) {
				oldest, ot = s, t
			}
		}
		delete(u.known, oldest)
	}
	u.known[a] = now
}

// Stats returns the guard's counters.
func (g *Guard) Stats() Stats {
	return Stats{AuthFailures: g.authFail.Load(), AuthSuccesses: g.authOK.Load(), Bans: g.bans.Load(),
		FloodBans: g.floodBans.Load(), UserLocks: g.userLocks.Load(), Refused: g.refused.Load()}
}

// sweep forgets expired state at most once per second, and everything of a map that still
// exceeds maxEntries (a spoofed-source flood must not grow memory without bound). g.mu is held.
func (g *Guard) sweep(now time.Time) {
	if now.Sub(g.lastSweep) < time.Second && len(g.src) < maxEntries && len(g.pike) < maxEntries && len(g.users) < maxEntries {
		return
	}
	g.lastSweep = now
	for k, w := range g.src {
		if now.Sub(w.start) >= g.pol.FailWindow {
			delete(g.src, k)
		}
	}
	for k, w := range g.pike {
		if now.Sub(w.start) >= g.pol.PikeWindow {
			delete(g.pike, k)
		}
	}
	for k, u := range g.users {
		if len(u.known) == 0 && now.Sub(u.fail.start) >= g.pol.UserFailWindow && now.Sub(u.lockedUntil) >= g.pol.UserFailWindow {
			delete(g.users, k)
		}
	}
	// Still full: a flood of spoofed or one-off sources. Drop those seen once first, so that
	// the flood cannot wash out the count of a source that is really guessing.
	evictWindows(g.src)
	evictWindows(g.pike)
	if len(g.users) >= maxEntries {
		for k, u := range g.users {
			if len(u.known) == 0 && !now.Before(u.lockedUntil) && u.fail.n <= 1 {
				delete(g.users, k)
			}
		}
	}
	if len(g.users) >= maxEntries { // a locked user keeps its lock whatever else goes
		for k, u := range g.users {
			if len(u.known) == 0 && !now.Before(u.lockedUntil) {
				delete(g.users, k)
			}
		}
	}
}

// evictWindows makes room in a full per-source map: first the sources seen once, then, if the
// map is still full, everything.
func evictWindows(m map[netip.Addr]*window) {
	if len(m) < maxEntries {
		return
	}
	for k, w := range m {
		if w.n <= 1 {
			delete(m, k)
		}
	}
	if len(m) >= maxEntries {
		clear(m)
	}
}

func userKey(u string) string { return strings.ToLower(u) }
