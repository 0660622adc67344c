package fifo_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/pgtest"
)

// sharedHost starts a host named name whose fifo database is dsn (PostgreSQL, fifo.conf
// odbc-dsn) or, with dsn "", the SQLite file in dbDir.
func sharedHost(t *testing.T, name, dsn, dbDir string) *core.Host {
	t.Helper()
	odbc := ""
	if dsn != "" {
		odbc = `<settings><param name="odbc-dsn" value="` + dsn + `"/></settings>`
	}
	c := strings.Replace(conf, `<configuration name="fifo.conf">`, `<configuration name="switch.conf"><settings>
    <param name="switchname" value="`+name+`"/></settings></configuration>
  <configuration name="fifo.conf">`+odbc, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(playtest.Conf(c)), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
		Dirs: core.Dirs{DB: dbDir, Storage: filepath.Join(dir, "storage")},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.SetSPS(100000)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx, core.CauseSystemShutdown)
	})
	return h
}

// TestMembersShared: two nodes share the fifo database (one SQLite file, or PostgreSQL as a
// cluster does). A caller queued on B is in fifo_callers with B's name; a member added with
// fifo_member on A is listed on B, B dials it for its caller (fifo_bridge row), A sees the
// member in use and then its call counted, and a delete on B removes it for A.
func TestMembersShared(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn, dbDir := "", t.TempDir()
			path := filepath.Join(dbDir, "fifo.db")
			if backend == "postgres" {
				dsn = pgtest.Start(t).DSN()
				path = dsn
			}
			a := sharedHost(t, "node-a", dsn, dbDir)
			b := sharedHost(t, "node-b", dsn, dbDir)
			db, err := store.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows := func(q string, args ...any) int {
				var n int
				if err := db.QueryRow(q, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			c, pc := playtest.NewCall(t, b, "caller", [2]string{"fifo_music", music})
			playtest.Run(t, c, "fifo", "q in")
			waitFor(t, "the caller's fifo_callers row", func() bool {
				return rows(`SELECT count(*) FROM fifo_callers WHERE fifo_name = 'q' AND uuid = ? AND hostname = 'node-b'`, c.UUID()) == 1
			})

			if got := api(t, a, "fifo_member", "add q loopback/member 1 10 0"); got != "+OK\n" {
				t.Fatalf("fifo_member add on A: %q", got)
			}
			if got := api(t, b, "fifo", "has_outbound q"); got != "q:1\n" {
				t.Errorf("fifo has_outbound q on B = %q", got)
			}
			waitFor(t, "B dials A's member for its caller", func() bool { return c.Peer() != nil })
			pc.Tone(600, 8000, 3*time.Second)
			m := pc.Mark()
			waitFor(t, "the caller hears the member (echo)", func() bool { return playtest.Goertzel(pc.HeardSince(m), 600, 8000) > 0.3 })
			if list := api(t, a, "fifo", "list q"); !strings.Contains(list, `use_count="1"`) || !strings.Contains(list, "loopback/member") {
				t.Errorf("member not in use, listed on A:\n%s", list)
			}
			waitFor(t, "the fifo_bridge row", func() bool {
				return rows(`SELECT count(*) FROM fifo_bridge WHERE caller_uuid = ? AND hostname = 'node-b'`, c.UUID()) == 1
			})
			if n := rows(`SELECT count(*) FROM fifo_callers WHERE uuid = ?`, c.UUID()); n != 0 {
				t.Errorf("served caller still in fifo_callers (%d)", n)
			}

			c.Hangup(core.CauseNormalClearing)
			waitFor(t, "the member's call counted, seen on A", func() bool {
				return strings.Contains(api(t, a, "fifo", "list q"), `use_count="0" timeout="10" lag="0" outbound_call_count="1"`)
			})
			waitFor(t, "the fifo_bridge row gone", func() bool {
				return rows(`SELECT count(*) FROM fifo_bridge WHERE caller_uuid = ?`, c.UUID()) == 0
			})
			if got := api(t, b, "fifo_member", "del q loopback/member"); got != "+OK\n" {
				t.Errorf("fifo_member del on B: %q", got)
			}
			if got := api(t, a, "fifo", "has_outbound q"); got != "" {
				t.Errorf("after del on B, has_outbound on A = %q", got)
			}
		})
	}
}
