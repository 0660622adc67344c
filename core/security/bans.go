// Package security is goswitch's built-in defence against brute force and floods, what
// FreeSWITCH leaves to fail2ban: one ban table per host shared by every SIP profile and the
// event socket, and per-listener guards that count failed authentications per source
// (lockout), per user (a slower back-off that spares sources the user has authenticated
// from) and requests per source (Kamailio pike).
//
// Every event is one log line with a fixed prefix for fail2ban and log watchers:
//
//	SECURITY <event> src=<ip> [net=<v6>/64] user=<user> service=<sip/<profile>|esl> reason=<reason> [secs=<n>]
//
// events: auth-failure, banned, unbanned, user-locked; user is "-" when there is none. A ban
// fires CUSTOM goswitch::banned on the bus (goswitch::unbanned when it is lifted). IPv4
// sources are banned by address, IPv6 sources by /64 (net=).
package security

import (
	"context"
	"fmt"
	"github.com/goswitch/goswitch/core/logging"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

// Event subclasses published on the bus.
const (
	BannedEvent   = "goswitch::banned"
	UnbannedEvent = "goswitch::unbanned"
)

// maxEntries bounds every per-source and per-user map: past it, expired entries are swept and,
// if that is not enough, the oldest state is forgotten rather than memory growing without end.
const maxEntries = 100000

// Ban is one banned source.
type Ban struct {
	Addr    netip.Addr // the Key: an IPv4 address or an IPv6 /64's first address
	Since   time.Time
	Until   time.Time // zero: until lifted
	Reason  string
	Service string // who banned it: sip/<profile>, esl, api
	User    string // the user of the last failure, if any
	Dropped uint64 // requests and connections refused since
}

type ban struct {
	Ban
	dropped atomic.Uint64
}

// Table is the host's ban list. The zero value is not usable; use NewTable.
type Table struct {
	log *slog.Logger
	bus *event.Bus

	mu   sync.RWMutex
	bans map[netip.Addr]*ban

	total atomic.Uint64 // bans issued since start
	now   func() time.Time
}

// NewTable returns an empty table that logs to log and publishes to bus (either may be nil).
func NewTable(log *slog.Logger, bus *event.Bus) *Table {
	return &Table{log: limited(log), bus: bus, bans: map[netip.Addr]*ban{}, now: time.Now}
}

// limited bounds the SECURITY lines a flood of strangers can make a logger write (50 a second,
// then one "suppressed" line a second), so an attack from many addresses cannot fill the disk.
func limited(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	return slog.New(logging.Limit(log.Handler(), logging.LimitOptions{PerKey: 5, Total: 50}))
}

// Key is the unit a ban (and every per-source count) applies to: the address for IPv4, its
// /64 for a public IPv6 address, where one host commonly owns the whole /64 and could rotate
// through it. A link-local or unique-local (fc00::/7) address keys alone: on a LAN a /64 holds
// many hosts, and one of them must not get the others banned.
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsPrivate() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// keyString prints a key as the ban list and log lines show it.
func keyString(k netip.Addr) string {
	if k.Is6() && !k.IsLoopback() && !k.IsLinkLocalUnicast() && !k.IsPrivate() {
		return k.String() + "/64"
	}
	return k.String()
}

func (t *Table) lookup(a netip.Addr) *ban {
	t.mu.RLock()
	b := t.bans[Key(a)]
	var until time.Time
	if b != nil {
		until = b.Until
	}
	t.mu.RUnlock()
	if b == nil {
		return nil
	}
	if !until.IsZero() && !t.now().Before(until) {
		t.mu.Lock()
		if t.bans[b.Addr] == b {
			delete(t.bans, b.Addr)
		}
		t.mu.Unlock()
		return nil
	}
	return b
}

// Banned reports whether a is banned now.
func (t *Table) Banned(a netip.Addr) bool {
	if t == nil {
		return false
	}
	return t.lookup(a) != nil
}

// Allow is the listener hook (accept guards): false, and the refusal counted, when a is banned.
func (t *Table) Allow(a netip.Addr) bool { return !t.Refuse(a) }

// Refuse reports whether a is banned and, if so, counts one refused request on its ban.
func (t *Table) Refuse(a netip.Addr) bool {
	if t == nil {
		return false
	}
	b := t.lookup(a)
	if b == nil {
		return false
	}
	b.dropped.Add(1)
	return true
}

// Ban bans a for d (0: until lifted). A source already banned keeps the later expiry. It
// reports whether the ban is new.
func (t *Table) Ban(src netip.Addr, d time.Duration, reason, service, user string) bool {
	a := Key(src)
	now := t.now()
	var until time.Time
	if d > 0 {
		until = now.Add(d)
	}
	t.mu.Lock()
	if old := t.bans[a]; old != nil && (old.Until.IsZero() || now.Before(old.Until)) {
		if old.Until.IsZero() || (!until.IsZero() && until.Before(old.Until)) {
			t.mu.Unlock()
			return false
		}
		old.Until = until
		t.mu.Unlock()
		return false
	}
	if len(t.bans) >= maxEntries {
		for k, b := range t.bans {
			if !b.Until.IsZero() && !now.Before(b.Until) {
				delete(t.bans, k)
			}
		}
	}
	if len(t.bans) >= maxEntries {
		// Still full of live bans: the one that ends soonest makes room, so the table stays
		// bounded however many sources an attack uses (permanent bans, the operator's, stay).
		var soonest netip.Addr
		var end time.Time
		for k, b := range t.bans {
			if !b.Until.IsZero() && (end.IsZero() || b.Until.Before(end)) {
				soonest, end = k, b.Until
			}
		}
		if end.IsZero() {
			t.mu.Unlock()
			return false // every entry is a permanent ban
		}
		delete(t.bans, soonest)
	}
	t.bans[a] = &ban{Ban: Ban{Addr: a, Since: now, Until: until, Reason: reason, Service: service, User: user}}
	t.mu.Unlock()
	t.total.Add(1)
	secs := int(d / time.Second)
	Log(t.log, slog.LevelWarn, "banned", src, user, service, reason, "secs="+strconv.Itoa(secs))
	if t.bus != nil {
		e := t.bus.New("CUSTOM", BannedEvent)
		e.Add("network-ip", keyString(a))
		e.Add("reason", reason)
		e.Add("service", service)
		e.Add("user", user)
		e.Add("ban-seconds", strconv.Itoa(secs))
		t.bus.Publish(e)
	}
	return true
}

// Unban lifts a's ban; false when a was not banned.
func (t *Table) Unban(a netip.Addr, service string) bool {
	a = Key(a)
	t.mu.Lock()
	b, ok := t.bans[a]
	delete(t.bans, a)
	t.mu.Unlock()
	if !ok {
		return false
	}
	Log(t.log, slog.LevelWarn, "unbanned", a, "", service, "lifted", "")
	if t.bus != nil {
		e := t.bus.New("CUSTOM", UnbannedEvent)
		e.Add("network-ip", keyString(a))
		e.Add("reason", b.Reason)
		e.Add("service", service)
		t.bus.Publish(e)
	}
	return true
}

// List returns the bans in force, oldest first.
func (t *Table) List() []Ban {
	if t == nil {
		return nil
	}
	now := t.now()
	t.mu.RLock()
	out := make([]Ban, 0, len(t.bans))
	for _, b := range t.bans {
		if b.Until.IsZero() || now.Before(b.Until) {
			c := b.Ban
			c.Dropped = b.dropped.Load()
			out = append(out, c)
		}
	}
	t.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Addr.Less(out[j].Addr)
	})
	return out
}

// Total is the number of bans issued since start.
func (t *Table) Total() uint64 { return t.total.Load() }

// Command runs the ban API: "list", "add <ip> [secs] [reason]", "del <ip>" (also "lift").
// It writes FreeSWITCH-style "+OK"/"-ERR" answers.
func (t *Table) Command(_ context.Context, args string, w interface{ Write([]byte) (int, error) }) {
	f := strings.Fields(args)
	if len(f) == 0 {
		f = []string{"list"}
	}
	switch f[0] {
	case "list":
		now := t.now()
		fmt.Fprintf(w, "%-39s %-8s %-20s %-14s %-10s %s\n", "source", "expires", "reason", "service", "dropped", "user")
		list := t.List()
		for _, b := range list {
			exp := "never"
			if !b.Until.IsZero() {
				exp = strconv.Itoa(int(b.Until.Sub(now).Round(time.Second)/time.Second)) + "s"
			}
			user := b.User
			if user == "" {
				user = "-"
			}
			fmt.Fprintf(w, "%-39s %-8s %-20s %-14s %-10d %s\n", keyString(b.Addr), exp, b.Reason, b.Service, b.Dropped, user)
		}
		fmt.Fprintf(w, "\n%d total.\n", len(list))
	case "add":
		if len(f) < 2 {
			fmt.Fprintln(w, "-USAGE: add <ip> [seconds] [reason]")
			return
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			fmt.Fprintf(w, "-ERR invalid address %q\n", f[1])
			return
		}
		secs := 0
		if len(f) >= 3 {
			if secs, err = strconv.Atoi(f[2]); err != nil || secs < 0 {
				fmt.Fprintf(w, "-ERR invalid seconds %q\n", f[2])
				return
			}
		}
		reason := "manual"
		if len(f) >= 4 {
			reason = sanitize(strings.Join(f[3:], "-"))
		}
		t.Ban(a, time.Duration(secs)*time.Second, reason, "api", "")
		fmt.Fprintf(w, "+OK banned %s\n", keyString(Key(a)))
	case "del", "lift", "delete", "remove":
		if len(f) < 2 {
			fmt.Fprintln(w, "-USAGE: del <ip>|all")
			return
		}
		if f[1] == "all" {
			n := 0
			for _, b := range t.List() {
				if t.Unban(b.Addr, "api") {
					n++
				}
			}
			fmt.Fprintf(w, "+OK lifted %d\n", n)
			return
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			fmt.Fprintf(w, "-ERR invalid address %q\n", f[1])
			return
		}
		if !t.Unban(a, "api") {
			fmt.Fprintf(w, "-ERR %s is not banned\n", keyString(Key(a)))
			return
		}
		fmt.Fprintf(w, "+OK lifted %s\n", keyString(Key(a)))
	default:
		fmt.Fprintln(w, "-USAGE: list | add <ip> [seconds] [reason] | del <ip>|all")
	}
}

// Log writes one SECURITY line. extra is appended as is ("secs=900").
func Log(log *slog.Logger, level slog.Level, ev string, src netip.Addr, user, service, reason, extra string) {
	if log == nil {
		return
	}
	if user == "" {
		user = "-"
	}
	var b strings.Builder
	b.Grow(96)
	b.WriteString("SECURITY ")
	b.WriteString(ev)
	b.WriteString(" src=")
	b.WriteString(src.Unmap().String())
	if k := Key(src); k != src.Unmap() && ev != "auth-failure" {
		b.WriteString(" net=")
		b.WriteString(keyString(k))
	}
	b.WriteString(" user=")
	b.WriteString(sanitize(user))
	b.WriteString(" service=")
	b.WriteString(service)
	b.WriteString(" reason=")
	b.WriteString(reason)
	if extra != "" {
		b.WriteByte(' ')
		b.WriteString(extra)
	}
	log.Log(context.Background(), level, b.String())
}

// sanitize keeps a network-supplied name to one printable token of at most 64 bytes, so a
// user name cannot forge a second log line or a src= field.
func sanitize(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '=' || r == '"' || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
