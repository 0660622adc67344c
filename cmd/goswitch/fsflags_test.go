package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFreeSWITCHStartFlags: every flag of `freeswitch -help` is accepted; those goswitch has no
// use for print a notice; the rest keep their meaning.
func TestFreeSWITCHStartFlags(t *testing.T) {
	var notice bytes.Buffer
	args := []string{"-u", "freeswitch", "-g", "daemon", "-ncwait", "-nonat", "-np", "-nonatmap",
		"-reincarnate", "-reincarnate-reexec", "-core", "-rp", "-lp", "-vg", "-nosql", "-heavy-timer",
		"-nocal", "-nort", "-elegant-term", "-nf", "-temp", "/var/tmp/fs", "-scripts", "/srv/scripts",
		"-htdocs", "/srv/htdocs", "-grammar", "/srv/grammar", "-cache", "/var/cache/fs", "-mod", "/usr/lib/fs/mod",
		"-base", "/opt/fs", "-log", "/var/log/fs", "-db", "/var/lib/fs/db", "-run", "/run/fs",
		"-sounds", "/usr/share/fs/sounds", "-storage", "/var/lib/fs/storage", "-recordings", "/var/lib/fs/rec",
		"-certs", "/etc/fs/tls", "-cfgname", "freeswitch.xml"}
	rest, fs, err := fsStartFlags(args, &notice)
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags(rest, &notice)
	if err != nil {
		t.Fatalf("goswitch's flag set refuses %v: %v", rest, err)
	}
	if fs.user != "freeswitch" || fs.group != "daemon" || !fs.ncwait || !o.nc || !o.nonat || !o.nf {
		t.Errorf("user %q group %q ncwait %v nc %v nonat %v nf %v", fs.user, fs.group, fs.ncwait, o.nc, o.nonat, o.nf)
	}
	if o.conf != "/opt/fs/conf" || o.log != "/var/log/fs" || o.sounds != "/usr/share/fs/sounds" {
		t.Errorf("-base/-log/-sounds: conf %q log %q sounds %q", o.conf, o.log, o.sounds)
	}
	for k, want := range map[string]string{"temp_dir": "/var/tmp/fs", "script_dir": "/srv/scripts",
		"htdocs_dir": "/srv/htdocs", "grammar_dir": "/srv/grammar", "cache_dir": "/var/cache/fs", "mod_dir": "/usr/lib/fs/mod"} {
		if fs.globals[k] != want {
			t.Errorf("%s = %q, want %q", k, fs.globals[k], want)
		}
	}
	for _, f := range []string{"-np", "-nonatmap", "-reincarnate", "-core", "-rp", "-vg", "-nosql", "-nocal", "-nort"} {
		if !strings.Contains(notice.String(), "flag "+f+" accepted and ignored") {
			t.Errorf("no notice for %s:\n%s", f, notice.String())
		}
	}
	if strings.Contains(notice.String(), "-nonat ") {
		t.Errorf("-nonat is goswitch's own flag, not ignored:\n%s", notice.String())
	}
	if _, _, err := fsStartFlags([]string{"-u"}, &notice); err == nil {
		t.Error("-u without a user accepted")
	}
	if rest, _, _ := fsStartFlags([]string{"-base", "/b", "-conf", "/c"}, &notice); !slices.Equal(rest, []string{"-conf", "/c"}) {
		t.Errorf("-conf given: rest %v", rest)
	}
}

// TestFreeSWITCHServiceUnit starts goswitch the way FreeSWITCH's systemd unit starts FreeSWITCH
// (Type=forking, `freeswitch -u freeswitch -g freeswitch -ncwait -nonat`, PIDFile=<run>/freeswitch.pid):
// the command returns 0 once the switch is ready, the switch runs on in the background as the
// given user and group, and its pid is in freeswitch.pid.
func TestFreeSWITCHServiceUnit(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching user needs root")
	}
	dir, err := os.MkdirTemp("", "gs-unit-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	confDir := filepath.Join(dir, "conf")
	for _, d := range []string{dir, confDir, filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(d, 0o777)
	}
	if err := os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(minimalConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-u", "nobody", "-g", "nogroup", "-ncwait", "-nonat",
		"-conf", confDir, "-log", filepath.Join(dir, "log"), "-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"))
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit %v:\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("-ncwait did not return:\n%s", out.String())
	}
	t.Logf("-ncwait returned after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	b, err := os.ReadFile(filepath.Join(dir, "run", "freeswitch.pid"))
	if err != nil {
		t.Fatalf("no freeswitch.pid: %v\n%s", err, out.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == cmd.Process.Pid {
		t.Fatalf("freeswitch.pid holds %q (foreground pid %d)", b, cmd.Process.Pid)
	}
	defer stopPid(t, pid)
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatalf("background switch not running: %v", err)
	}
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "Gid:\t65534\t65534\t65534\t65534"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("background switch: /proc status lacks %q:\n%s", want, status)
		}
	}
	// freeswitch -stop (ExecStop= of older units) ends it: SIGTERM, drain, exit.
	stop := exec.Command(os.Args[0], "-stop", "-run", filepath.Join(dir, "run"))
	stop.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	if b, err := stop.CombinedOutput(); err != nil || !strings.Contains(string(b), "sent SIGTERM to pid "+strconv.Itoa(pid)) {
		t.Errorf("-stop: %v %s", err, b)
	}
	waitGone(t, pid)
	if st, err := os.Stat(filepath.Join(dir, "log", "goswitch.log")); err != nil {
		t.Errorf("no log: %v", err)
	} else if s, ok := st.Sys().(*syscall.Stat_t); !ok || s.Uid != 65534 {
		t.Errorf("log file not written as nobody")
	}
}

// stopPid sends SIGTERM to a process that is not our child and waits until it is gone.
func stopPid(t *testing.T, pid int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); err != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	waitGone(t, pid)
}

// waitGone waits until pid has exited (gone or a zombie), killing it after 15 s.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil || strings.Contains(string(b), "State:\tZ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("background switch %d did not stop on SIGTERM", pid)
}
