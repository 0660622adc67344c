package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/internal/pgtest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestOutageCatchUp: with PostgreSQL down, writes queue (the caller is not blocked), the store
// warns and counts, and when the server is back the queued writes commit.
func TestOutageCatchUp(t *testing.T) {
	pg := pgtest.Start(t)
	var logs syncBuf
	db, err := Open(pg.URL(), Options{Retry: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate("kv", `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.Exec(ctx, `INSERT OR REPLACE INTO kv VALUES (?, ?)`, "before", "1"); err != nil {
		t.Fatal(err)
	}
	pg.Stop()
	before := Unavailable()
	for i := 0; i < 50; i++ {
		db.Write(`INSERT OR REPLACE INTO kv VALUES (?, ?)`, "during", "x")
	}
	deadline := time.Now().Add(20 * time.Second)
	for Unavailable() <= before || !strings.Contains(logs.String(), "database unreachable") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning/count; logs: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("not a warning: %s", logs.String())
	}
	if err := pg.StartServer(); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kv`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows %d err %v", n, err)
	}
	if !strings.Contains(logs.String(), "reachable again") {
		t.Fatalf("no recovery log: %s", logs.String())
	}
}
