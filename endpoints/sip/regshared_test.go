package sip

import (
	"context"
	"log/slog"
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
