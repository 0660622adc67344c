package sip

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/internal/pgtest"
)

// TestSharedRegistrations: a registration written by node A (with its Path) is found by node
// B's lookup through the shared PostgreSQL table, and B's dial URI routes back through the proxy.
func TestSharedRegistrations(t *testing.T) {
	pg := pgtest.Start(t)
	open := func() *registry {
		db, err := store.Open(pg.DSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		r, err := newRegistry(&Endpoint{log: slog.Default()}, db)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := open(), open()
	reg := &Registration{CallID: "c1", User: "1000", Host: "example.com", Profile: "internal",
		Contact: "<sip:1000@10.0.0.5:5060>", ContactURI: "sip:1000@10.0.0.5:5060", Expires: time.Now().Add(time.Hour),
		NetworkIP: "127.0.0.10", NetworkPort: 5060, Transport: "UDP", Node: "node-a",
		Path: "<sip:127.0.0.10;lr;received=sip:10.0.0.5:5060>"}
	a.upsert(reg)
	if err := a.db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := b.lookup("1000", "EXAMPLE.com")
	if len(got) != 1 || got[0].Node != "node-a" || got[0].Path != reg.Path {
		t.Fatalf("node B sees %+v", got)
	}
	uri := got[0].dialURI()
	if !strings.Contains(uri, ";fs_path=") {
		t.Fatalf("dial URI %q carries no Path", uri)
	}
	u, err := parseTarget(uri)
	if err != nil {
		t.Fatal(err)
	}
	routes := takeFSPath(&u)
	if len(routes) != 1 || routes[0] != reg.Path || u.UriParams.Has("fs_path") {
		t.Fatalf("routes %q uri %s", routes, u.String())
	}
}

func benchRegistry(b *testing.B, dsn string) *registry {
	db, err := store.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	r, err := newRegistry(&Endpoint{log: slog.Default()}, db)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func benchDSNs(b *testing.B, fn func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, b.TempDir()+"/reg.db") })
	b.Run("postgres", func(b *testing.B) { fn(b, pgtest.Start(b).DSN()) })
}

// BenchmarkRegister: registrations/s written through the batching writer (flushed at the end).
func BenchmarkRegister(b *testing.B) {
	benchDSNs(b, func(b *testing.B, dsn string) {
		r := benchRegistry(b, dsn)
		exp := time.Now().Add(time.Hour)
		start := time.Now()
		n := 0
		for i := 0; b.Loop(); i++ {
			u := strconv.Itoa(i % 10000)
			r.upsert(&Registration{CallID: "c" + u, User: u, Host: "example.com", Profile: "internal",
				ContactURI: "sip:" + u + "@10.0.0.5:5060", Expires: exp, Transport: "UDP", Node: "a"})
			n++
		}
		if err := r.db.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "regs/s")
	})
}

// BenchmarkLookup: user/ resolutions/s (SQLite: the node's cache; PostgreSQL: the shared table).
func BenchmarkLookup(b *testing.B) {
	benchDSNs(b, func(b *testing.B, dsn string) {
		r := benchRegistry(b, dsn)
		exp := time.Now().Add(time.Hour)
		for i := 0; i < 1000; i++ {
			u := strconv.Itoa(i)
			r.upsert(&Registration{CallID: "c" + u, User: u, Host: "example.com", Profile: "internal",
				ContactURI: "sip:" + u + "@10.0.0.5:5060", Expires: exp, Transport: "UDP", Node: "a"})
		}
		if err := r.db.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n := 0
		for i := 0; b.Loop(); i++ {
			if len(r.lookup(strconv.Itoa(i%1000), "example.com")) != 1 {
				b.Fatal("lookup missed")
			}
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lookups/s")
	})
}
