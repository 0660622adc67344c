package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/testconf"
)

// TestDaemonLogsCheckFindings: the daemon logs what goswitch check finds, at WARNING with
// file:line, once each, when it starts.
func TestDaemonLogsCheckFindings(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(minimalConf, `<load module="mod_commands"/>`, `<load module="mod_commands"/><load module="mod_lua"/><load module="mod_verto"/>`, 1)
	conf = strings.Replace(conf, `<action application="echo"/>`, `<action application="echo"/><action application="rxfax" data="x"/>`, 1)
	conf = strings.Replace(conf, "</document>", `<section name="chatplan" description="Regex Chatplan"/>
</document>`, 1)
	if err := os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"))
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	waitFor(t, out, "goswitch ready")
	log := out.String()
	var checkOut bytes.Buffer
	runCheck([]string{"-conf", confDir}, &checkOut, io.Discard)
	findings := 0
	for _, line := range strings.Split(strings.TrimSpace(checkOut.String()), "\n") {
		pos, msg, ok := strings.Cut(line, ": warning: ")
		if !ok {
			continue
		}
		findings++
		want := "[WARNING] "
		re := regexp.MustCompile(regexp.QuoteMeta(want) + `.*` + regexp.QuoteMeta(pos+": "+msg))
		if n := len(re.FindAllString(log, -1)); n != 1 {
			t.Errorf("%q logged %d times at WARNING, want once", pos+": "+msg, n)
		}
	}
	if findings != 4 {
		t.Errorf("check found %d things, want 4 (mod_lua, mod_verto, chatplan, rxfax):\n%s", findings, checkOut.String())
	}
	if t.Failed() {
		t.Logf("daemon log:\n%s", log)
	}
}

// TestVanillaStartFindingsAndModules: on FreeSWITCH's vanilla tree the start log carries every
// finding of goswitch check (37 of them today), and `show modules` lists exactly the modules
// modules.conf.xml loads that goswitch has.
func TestVanillaStartFindingsAndModules(t *testing.T) {
	dir := testconf.Vanilla(t)
	var checkOut bytes.Buffer
	// exit 1 is vanilla's unsafe defaults (ClueCon, password 1234), which the daemon handles itself
	if code := runCheck([]string{"-conf", dir}, &checkOut, io.Discard); code > 1 {
		t.Fatalf("check exit %d:\n%s", code, checkOut.String())
	}
	var want []string
	unsupported := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(checkOut.String()), "\n") {
		if pos, msg, ok := strings.Cut(line, ": warning: "); ok {
			want = append(want, pos+": "+msg)
			if m, ok := strings.CutPrefix(msg, "module "); ok {
				unsupported[strings.TrimSuffix(m, " is not supported")] = true
			}
		}
	}

	g := xmlconf.BuiltinGlobals(dir)
	g["sounds_dir"] = filepath.Join(t.TempDir(), "sounds")
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Dirs: core.Dirs{DB: t.TempDir()},
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir, Globals: g}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx, core.CauseSystemShutdown)
	}()

	var buf bytes.Buffer
	lh, err := logging.New(logging.Options{Writer: &buf, Color: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer lh.Close()
	n := logStartFindings(slog.New(lh), h.Config())
	if n != len(want) || n < 30 {
		t.Errorf("start logged %d findings, check lists %d", n, len(want))
	}
	log := buf.String()
	for _, w := range want {
		if c := strings.Count(log, "] "+w+"\n") + strings.Count(log, " "+w+"\n"); c != 1 {
			t.Errorf("%q logged %d times, want once", w, c)
		}
	}
	if got := strings.Count(log, "[WARNING]"); got != len(want)+1 {
		t.Errorf("%d WARNING lines for %d findings (+1 summary)", got, len(want))
	}

	loaded, ok := core.LoadedModules(h.Config())
	if !ok {
		t.Fatal("vanilla has no modules.conf")
	}
	var wantMods []string
	for m := range loaded {
		if !unsupported[m] {
			wantMods = append(wantMods, m)
		}
	}
	sort.Strings(wantMods)
	out, err := h.APIOutput(context.Background(), "show", "modules")
	if err != nil {
		t.Fatal(err)
	}
	var gotMods []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, ","); len(f) == 4 && f[0] == "module" {
			gotMods = append(gotMods, f[1])
		}
	}
	if strings.Join(gotMods, " ") != strings.Join(wantMods, " ") {
		t.Errorf("show modules:\n got %v\nwant %v (modules.conf.xml minus what check reports unsupported)", gotMods, wantMods)
	}
}
