package db_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/db"
	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
	_ "github.com/goswitch/goswitch/dialplan"
	"github.com/goswitch/goswitch/internal/pgtest"
)

// host starts a host whose database directory is dbDir, so a second host sees what the first wrote.
func host(t *testing.T, dbDir string) *core.Host {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(playtest.Conf("")), 0o644); err != nil {
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
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

func stop(h *core.Host) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.Stop(ctx, core.CauseSystemShutdown)
}

func api(t *testing.T, h *core.Host, cmd, args string) string {
	t.Helper()
	out, err := h.APIOutput(t.Context(), cmd, args)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDBAndGroupOutliveRestart: db and group data written by the apps and the API are there
// after a restart; ${group(call:...)} gives a simultaneous or ordered dial string.
func TestDBAndGroupOutliveRestart(t *testing.T) {
	dbDir := t.TempDir()
	h := host(t, dbDir)
	a, _ := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "group", "insert:sales@d:user/1000@d", "group", "insert:sales@d:user/1001@d",
		"db", "insert/realm1/k1/v1", "set", "done=yes", "park", "")
	deadline := time.Now().Add(5 * time.Second)
	for a.Var("done") != "yes" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, tc := range [][3]string{
		{"db", "insert/realm1/k2/v2", "+OK"},
		{"db", "select/realm1/k1", "v1"},
		{"db", "exists/realm1/k2", "true"},
		{"db", "exists/realm1/nope", "false"},
		{"db", "count/realm1", "2"},
		{"db", "list/realm1", "k1,k2"},
		{"group", "call:sales@d", "user/1000@d,user/1001@d"},
		{"group", "call:sales@d:order", "user/1000@d|user/1001@d"},
		{"group", "call:nobody@d", "error/NO_ROUTE_DESTINATION"},
	} {
		if got := api(t, h, tc[0], tc[1]); got != tc[2] {
			t.Errorf("%s %s = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
	if got := h.Expand(t.Context(), "${group(call:sales@d:order)}"); got != "user/1000@d|user/1001@d" {
		t.Errorf("${group(call:...)} = %q", got)
	}
	a.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, a, 5*time.Second)
	stop(h)

	h2 := host(t, dbDir)
	defer stop(h2)
	if got := api(t, h2, "db", "select/realm1/k2"); got != "v2" {
		t.Errorf("after restart: db select = %q", got)
	}
	if got := api(t, h2, "group", "delete:sales@d:user/1000@d"); got != "+OK" {
		t.Errorf("group delete = %q", got)
	}
	if got := api(t, h2, "group", "call:sales@d"); got != "user/1001@d" {
		t.Errorf("after restart and delete: %q", got)
	}
	if got := api(t, h2, "db", "bogus"); got != "!err!" {
		t.Errorf("bad db command: %q", got)
	}
}

// TestDBSharedOnPostgres: with core-db-dsn on PostgreSQL two hosts (two cluster nodes) see the
// same db realms and groups, as FreeSWITCH's mod_db does through its core database.
func TestDBSharedOnPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	conf := playtest.Conf(`<section name="configuration"><configuration name="switch.conf"><settings>
  <param name="core-db-dsn" value="` + pg.DSN() + `"/></settings></configuration></section>`)
	mk := func() *core.Host {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := core.NewHost(core.HostOptions{
			Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
			Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
			Dirs: core.Dirs{DB: t.TempDir()},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(h) })
		return h
	}
	a, b := mk(), mk()
	if out := api(t, a, "db", "insert/cluster/k1/v1"); out != "+OK" {
		t.Fatalf("insert: %q", out)
	}
	api(t, a, "group", "insert:sales:user/1000")
	api(t, a, "group", "insert:sales:user/1001")
	if out := api(t, b, "db", "select/cluster/k1"); out != "v1" {
		t.Fatalf("select on the other node: %q", out)
	}
	if out := api(t, b, "group", "call:sales"); out != "user/1000,user/1001" {
		t.Fatalf("group call on the other node: %q", out)
	}
}
