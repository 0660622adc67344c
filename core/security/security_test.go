package security

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTest(pol Policy) (*Guard, *Table, *clock, *bytes.Buffer, *event.Bus) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	bus := event.NewBus(event.Identity{})
	c := &clock{t: time.Unix(1e9, 0)}
	t := NewTable(log, bus)
	t.now = c.now
	g := NewGuard(t, pol, log)
	g.now = c.now
	return g, t, c, &logs, bus
}

var (
	attacker = netip.MustParseAddr("192.0.2.1")
	phone    = netip.MustParseAddr("192.0.2.2")
	loop     = netip.MustParseAddr("127.0.0.1")
)

func TestLockoutPerSource(t *testing.T) {
	g, tb, c, logs, _ := newTest(DefaultPolicy("sip/internal"))
	for i := 1; i < 5; i++ {
		if g.Failure(attacker, "1000", "bad-password") {
			t.Fatalf("banned after %d failures", i)
		}
	}
	if !g.Failure(attacker, "1000", "bad-password") || !tb.Banned(attacker) {
		t.Fatal("not banned after 5 failures")
	}
	if g.Request(attacker) {
		t.Fatal("banned source's request passed")
	}
	if !g.Request(phone) {
		t.Fatal("other source refused")
	}
	if !strings.Contains(logs.String(), "SECURITY banned src=192.0.2.1 user=1000 service=sip/internal reason=auth-failures secs=900") {
		t.Fatalf("no ban line:\n%s", logs)
	}
	c.add(15*time.Minute + time.Second)
	if tb.Banned(attacker) || !g.Request(attacker) {
		t.Fatal("ban did not expire")
	}
	// Failures spread wider than the window never ban.
	for i := 0; i < 20; i++ {
		g.Failure(phone, "1001", "bad-password")
		c.add(16 * time.Second)
	}
	if tb.Banned(phone) {
		t.Fatal("4 failures a minute banned the source")
	}
	if s := g.Stats(); s.Bans != 1 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLoopbackLockedOutButNotRateLimited(t *testing.T) {
	pol := DefaultPolicy("sip/internal")
	pol.PikeMax, pol.PikeWindow, pol.PikeBlock = 10, time.Second, time.Minute
	g, tb, _, _, _ := newTest(pol)
	for i := 0; i < 100; i++ {
		if !g.Request(loop) {
			t.Fatal("loopback rate-limited")
		}
	}
	for i := 0; i < 5; i++ {
		g.Failure(loop, "1000", "bad-password")
	}
	if !tb.Banned(loop) {
		t.Fatal("loopback not locked out")
	}
	for i := 0; i < 10; i++ {
		if !g.Request(attacker) {
			t.Fatalf("request %d refused", i)
		}
	}
	if g.Request(attacker) || !tb.Banned(attacker) {
		t.Fatal("11th request in a second not refused")
	}
	if b := tb.List(); len(b) != 2 || b[1].Reason != "flood" {
		t.Fatalf("bans %+v", b)
	}
}

func TestTrustedExempt(t *testing.T) {
	pol := DefaultPolicy("esl")
	pol.Trusted = func(a netip.Addr) bool { return a == loop }
	g, tb, _, _, _ := newTest(pol)
	for i := 0; i < 50; i++ {
		g.Failure(loop, "", "bad-password")
	}
	if tb.Banned(loop) {
		t.Fatal("trusted source banned")
	}
}

func TestUserBackoffSparesKnownSources(t *testing.T) {
	g, _, c, logs, _ := newTest(DefaultPolicy("sip/internal"))
	g.Success(phone, "1000")
	// A distributed attack: 4 failures from each of many sources, under the per-source limit.
	for i := 0; i < 3; i++ {
		src := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		for j := 0; j < 4; j++ {
			g.Failure(src, "1000", "bad-password")
		}
	}
	stranger := netip.MustParseAddr("203.0.113.9")
	if !g.UserLocked("1000", stranger) {
		t.Fatal("user not locked after 12 failures from strangers")
	}
	if g.UserLocked("1000", phone) {
		t.Fatal("the user's own source was locked out")
	}
	if g.UserLocked("1001", stranger) {
		t.Fatal("another user locked")
	}
	if !strings.Contains(logs.String(), "SECURITY user-locked src=198.51.100.2 user=1000 service=sip/internal reason=auth-failures secs=60") {
		t.Fatalf("no user-locked line:\n%s", logs)
	}
	// Failures from the user's own source never count towards the user lock.
	c.add(61 * time.Second)
	for i := 0; i < 30; i++ {
		g.Failure(phone, "1000", "bad-password")
	}
	if g.UserLocked("1000", stranger) {
		t.Fatal("the user's own failures locked it")
	}
	// The back-off doubles.
	for i := 0; i < 10; i++ {
		g.Failure(netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}), "1000", "bad-password")
	}
	c.add(61 * time.Second)
	if !g.UserLocked("1000", stranger) {
		t.Fatal("second lock is not longer than the first")
	}
	c.add(60 * time.Second)
	if g.UserLocked("1000", stranger) {
		t.Fatal("second lock longer than 2 minutes")
	}
}

func TestBanAPIAndEvents(t *testing.T) {
	_, tb, _, _, bus := newTest(DefaultPolicy("sip/internal"))
	sub := bus.Subscribe(func(e *event.Event) bool { return e.Get("Event-Name") == "CUSTOM" }, 16)
	defer sub.Close()
	var out bytes.Buffer
	tb.Command(context.Background(), "add 192.0.2.7 60", &out)
	tb.Command(context.Background(), "list", &out)
	tb.Command(context.Background(), "del 192.0.2.7", &out)
	tb.Command(context.Background(), "del 192.0.2.7", &out)
	s := out.String()
	for _, want := range []string{"+OK banned 192.0.2.7", "192.0.2.7", "60s", "manual", "1 total.", "+OK lifted 192.0.2.7", "-ERR 192.0.2.7 is not banned"} {
		if !strings.Contains(s, want) {
			t.Fatalf("missing %q in:\n%s", want, s)
		}
	}
	for _, want := range []string{BannedEvent, UnbannedEvent} {
		select {
		case e := <-sub.C():
			if e.Get("Event-Subclass") != want || e.Get("network-ip") != "192.0.2.7" {
				t.Fatalf("event %s %s", e.Get("Event-Subclass"), e.Get("network-ip"))
			}
		case <-time.After(time.Second):
			t.Fatalf("no %s event", want)
		}
	}
}

func TestSanitize(t *testing.T) {
	if got := sanitize("10 00\nSECURITY banned src=1.2.3.4"); strings.ContainsAny(got, " \n=") {
		t.Fatalf("sanitize let through %q", got)
	}
}

func TestIPv6BansTheSlash64(t *testing.T) {
	g, tb, _, logs, _ := newTest(DefaultPolicy("sip/internal"))
	for i := 0; i < 5; i++ {
		g.Failure(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}), "1000", "bad-password")
	}
	if !tb.Banned(netip.MustParseAddr("2001:db8::ffff")) || tb.Banned(netip.MustParseAddr("2001:db8:0:1::1")) {
		t.Fatal("five failures from one /64 must ban that /64, and only it")
	}
	if !strings.Contains(logs.String(), "SECURITY banned src=2001:db8::5 net=2001:db8::/64 user=1000") {
		t.Fatalf("log:\n%s", logs)
	}
	var out bytes.Buffer
	tb.Command(context.Background(), "del 2001:db8::42", &out)
	if !strings.Contains(out.String(), "+OK lifted 2001:db8::/64") {
		t.Fatal(out.String())
	}
}

// A table full of live bans makes room by dropping the one that ends soonest: however many
// sources an attack uses, the table stays bounded, and an operator's permanent ban stays.
func TestBanTableBounded(t *testing.T) {
	tb := NewTable(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	c := &clock{t: time.Unix(1e9, 0)}
	tb.now = c.now
	permanent := netip.MustParseAddr("198.51.100.1")
	tb.Ban(permanent, 0, "manual", "api", "")
	first := netip.AddrFrom4([4]byte{10, 0, 0, 1})
	tb.Ban(first, time.Minute, "flood", "sip/internal", "") // ends soonest
	for i := 2; len(tb.bans) < maxEntries; i++ {
		tb.Ban(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), time.Hour, "flood", "sip/internal", "")
	}
	if !tb.Ban(netip.MustParseAddr("203.0.113.9"), time.Hour, "flood", "sip/internal", "") {
		t.Fatal("a new ban past the cap was not taken")
	}
	if n := len(tb.bans); n != maxEntries {
		t.Errorf("table holds %d bans, want at most %d", n, maxEntries)
	}
	if tb.Banned(first) {
		t.Error("the ban ending soonest should have made room")
	}
	if !tb.Banned(permanent) || !tb.Banned(netip.MustParseAddr("203.0.113.9")) {
		t.Error("the permanent ban and the new one must stay")
	}
}

// TestLANIPv6KeysAlone: on a LAN (link-local, unique-local) one host's failures ban that host,
// not its /64 neighbours.
func TestLANIPv6KeysAlone(t *testing.T) {
	for _, src := range []string{"fd00::1", "fe80::1"} {
		g, tb, _, _, _ := newTest(DefaultPolicy("sip/internal"))
		a := netip.MustParseAddr(src)
		for i := 0; i < 5; i++ {
			g.Failure(a, "1000", "bad-password")
		}
		neighbour := netip.MustParseAddr(strings.TrimSuffix(src, "1") + "2")
		if !tb.Banned(a) || tb.Banned(neighbour) {
			t.Errorf("%s: banned %v, neighbour %s banned %v; want only the host", src, tb.Banned(a), neighbour, tb.Banned(neighbour))
		}
	}
}

// TestSecurityLogFloodBounded: bans of thousands of sources write a bounded number of lines.
func TestSecurityLogFloodBounded(t *testing.T) {
	g, _, _, logs, _ := newTest(DefaultPolicy("sip/internal"))
	for i := 0; i < 2000; i++ {
		a := netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
		for j := 0; j < 5; j++ {
			g.Failure(a, "1000", "bad-password")
		}
	}
	if n := strings.Count(logs.String(), "SECURITY "); n > 200 {
		t.Errorf("%d SECURITY lines for 2000 banned sources in well under a second, want the flood bounded", n)
	}
}

// TestSprayKeepsLockAndCounts: a spray of one-off usernames from one-off sources, enough to fill
// the guard's maps, neither lifts a user's lock nor forgets a guessing source's count.
func TestSprayKeepsLockAndCounts(t *testing.T) {
	g, tb, _, _, _ := newTest(DefaultPolicy("sip/internal"))
	for i := 0; i < 12; i++ { // lock 1000: failures from many strangers, none banned
		g.Failure(netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}), "1000", "bad-password")
	}
	for i := 0; i < 4; i++ { // a guesser one failure short of its ban
		g.Failure(attacker, "1001", "bad-password")
	}
	for i := 0; i < maxEntries+10; i++ {
		g.Failure(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), "spray"+strconv.Itoa(i), "bad-password")
	}
	if !g.UserLocked("1000", netip.MustParseAddr("203.0.113.9")) {
		t.Error("the spray lifted user 1000's lock")
	}
	g.Failure(attacker, "1001", "bad-password")
	if !tb.Banned(attacker) {
		t.Error("the spray washed out the guesser's failure count: its fifth failure did not ban it")
	}
}
