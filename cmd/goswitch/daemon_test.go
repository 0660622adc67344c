package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the daemon: with GOSWITCH_TEST_DAEMON=1 it runs main's daemon, so
// signal tests drive a real process without building another binary.
func init() {
	if os.Getenv("GOSWITCH_TEST_DAEMON") == "1" {
		os.Exit(daemon(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

const minimalConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="greeting=hello"/>
  <section name="configuration" description="Various Configuration">
    <configuration name="modules.conf" description="Modules">
      <modules><load module="mod_dptools"/><load module="mod_loopback"/><load module="mod_commands"/></modules>
    </configuration>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <context name="default">
      <extension name="echo"><condition field="destination_number" expression="^9196$">
        <action application="answer"/><action application="echo"/></condition></extension>
    </context>
  </section>
</document>
`

// lockedBuffer collects the daemon's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, out *lockedBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("daemon never logged %q; output:\n%s", text, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDaemonSignals(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(confDir, "freeswitch.xml")
	if err := os.WriteFile(root, []byte(minimalConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"), "-set", "greeting=override")
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	waitFor(t, out, "goswitch ready")
	if _, err := os.Stat(filepath.Join(dir, "run", "goswitch.pid")); err != nil {
		t.Errorf("no pid file: %v", err)
	}

	// A broken file: reload fails with file:line and the daemon keeps running.
	if err := os.WriteFile(root, []byte(strings.Replace(minimalConf, "</extension>", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "previous configuration kept")
	if !strings.Contains(out.String(), "freeswitch.xml:") {
		t.Errorf("reload error does not name file:line:\n%s", out.String())
	}
	if err := os.WriteFile(root, []byte(minimalConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "configuration reloaded on SIGHUP")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exited with %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not exit on SIGTERM")
	}
}

func TestConsoleRunsAPIAndExits(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	_ = os.MkdirAll(confDir, 0o755)
	if err := os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(minimalConf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-c", "-nc", "-set", "greeting=override", "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"))
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "nosuchcommand\nglobal_getvar greeting\n...\n")
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("console exit: %v", err)
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "-ERR") {
		t.Errorf("unknown console command gave no -ERR: %q", lines)
	}
	if !strings.Contains(all, "override") {
		t.Errorf("-set greeting=override did not win over vars: %q", lines)
	}
}

func TestFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := daemon([]string{"-version"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "goswitch version") {
		t.Errorf("-version: code %d out %q", code, out.String())
	}
	if code := daemon([]string{"-set", "novalue"}, nil, &out, &errb); code != 2 {
		t.Errorf("bad -set accepted (code %d)", code)
	}
	o, err := parseFlags([]string{"-set", "a=1", "-set", "b=x=y", "-nonat", "-nf"}, &errb)
	if err != nil || o.set["a"] != "1" || o.set["b"] != "x=y" || !o.nonat {
		t.Errorf("parseFlags: %+v %v", o, err)
	}
}
