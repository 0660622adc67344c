package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/goswitch/goswitch/internal/pgtest"
)

// backends runs fn once per backend: a temp SQLite file and a throw-away PostgreSQL (skipped
// when PostgreSQL is not installed, failed under CI=true).
func backends(t *testing.T, fn func(t *testing.T, dsn string, pg *pgtest.Server)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "t.db"), nil) })
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		fn(t, pg.DSN(), pg)
	})
}

func TestDSNForms(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"pgsql://hostaddr=127.0.0.1 dbname=fs user=fs password=''", "hostaddr=127.0.0.1 dbname=fs user=fs password=''"},
		{"pgsql://fs:pw@10.0.0.1:5432/fs", "postgres://fs:pw@10.0.0.1:5432/fs"},
		{"postgresql://fs@db/fs?sslmode=disable", "postgres://fs@db/fs?sslmode=disable"},
		{"postgresql:///fs?host=/run/pg", "postgres:///fs?host=/run/pg"},
	} {
		got, ok := pgConnString(c.in)
		if !ok || got != c.want {
			t.Errorf("%q -> %q %v, want %q", c.in, got, ok, c.want)
		}
	}
	if IsPostgres("/var/lib/goswitch/core.db") || IsPostgres("sqlite://x") {
		t.Error("a file path is not PostgreSQL")
	}
	if r := Redact("pgsql://host=x password=secret"); r != "host=x password=xxxxx" {
		t.Errorf("redact %q", r)
	}
	if r := Redact("pgsql://u:secret@h/db"); r != "postgres://u:xxxxx@h/db" {
		t.Errorf("redact %q", r)
	}
}

func TestPlaceholders(t *testing.T) {
	if got := placeholders(`SELECT '?' , a FROM t WHERE a=? AND b=?`); got != `SELECT '?' , a FROM t WHERE a=$1 AND b=$2` {
		t.Fatal(got)
	}
}

// TestBothBackends: migrations, batched INSERT OR REPLACE, a failing statement failing alone,
// reads through the dialect rewrite, and LISTEN/NOTIFY, on each backend.
func TestBothBackends(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		ctx := context.Background()
		db, err := Open(dsn, Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.OnError = func(q string, err error) { t.Errorf("%s: %v", q, err) }
		mig := []string{`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, n INTEGER)`, `CREATE INDEX kv_n ON kv(n)`}
		if err := db.Migrate("kv", mig...); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate("kv", mig...); err != nil { // idempotent
			t.Fatal(err)
		}
		got := make(chan string, 4)
		db.Listen("kv_changed", func(p string) { got <- p })
		for i := 0; i < 1000; i++ {
			if err := db.Write(`INSERT OR REPLACE INTO kv VALUES (?, ?, ?)`, strconv.Itoa(i%10), "v", int64(i)+1<<40); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Exec(ctx, `INSERT INTO nope VALUES(1)`); err == nil {
			t.Fatal("expected error")
		}
		if err := db.Exec(ctx, `INSERT OR REPLACE INTO kv (k, v) VALUES ('a', ?)`, "b"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM kv WHERE n > ?`, 1<<40).Scan(&n); err != nil || n != 10 {
			t.Fatalf("rows %d err %v", n, err)
		}
		var v string
		if err := db.QueryRow(`SELECT v FROM kv WHERE k = ?`, "a").Scan(&v); err != nil || v != "b" {
			t.Fatalf("v %q err %v", v, err)
		}
		// A notification sent after a write: the listener sees the write. PostgreSQL's LISTEN
		// session may not be up yet, so notify until one arrives.
		deadline := context.Background()
		deadline, cancel := context.WithTimeout(deadline, 10e9)
		defer cancel()
		for {
			db.Notify("kv_changed", "a")
			db.Flush(ctx)
			select {
			case p := <-got:
				if p != "a" {
					t.Fatalf("payload %q", p)
				}
				return
			case <-deadline.Done():
				t.Fatal("no notification")
			case <-timeAfter(100):
			}
		}
	})
}

func timeAfter(ms int) <-chan time.Time { return time.After(time.Duration(ms) * time.Millisecond) }
