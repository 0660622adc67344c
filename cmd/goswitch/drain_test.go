package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// consoleDaemon runs the daemon with a console on a pipe; cmd(line) types a command and waits for
// its output, up to the next prompt.
type consoleDaemon struct {
	t     *testing.T
	proc  *exec.Cmd
	in    io.WriteCloser
	out   *lockedBuffer
	done  chan error
	ended bool
}

func startConsoleDaemon(t *testing.T, args ...string) *consoleDaemon {
	t.Helper()
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(minimalConf), 0o644); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"-c", "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run")}, args...)
	d := &consoleDaemon{t: t, out: &lockedBuffer{}, done: make(chan error, 1)}
	d.proc = exec.Command(os.Args[0], full...)
	d.proc.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	d.proc.Stdout, d.proc.Stderr = d.out, d.out
	var err error
	if d.in, err = d.proc.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := d.proc.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.proc.Wait() }()
	t.Cleanup(func() {
		if !d.ended {
			_ = d.proc.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.out.String())
		}
	})
	waitFor(t, d.out, "goswitch ready")
	return d
}

var uuidRE = regexp.MustCompile(`\+OK [0-9a-f-]{36}`)

// cmd types line and returns what the console printed for it.
func (d *consoleDaemon) cmd(line string) string {
	d.t.Helper()
	mark := len(d.out.String())
	if _, err := io.WriteString(d.in, line+"\n"); err != nil {
		d.t.Fatalf("console %q: %v", line, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := d.out.String()[mark:]; strings.Contains(s, "> ") && strings.Count(s, "\n") > 0 {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.t.Fatalf("console %q: no answer", line)
	return ""
}

// wait returns how long the daemon took to exit, failing after limit.
func (d *consoleDaemon) wait(limit time.Duration) time.Duration {
	d.t.Helper()
	t0 := time.Now()
	select {
	case err := <-d.done:
		d.ended = true
		if err != nil {
			d.t.Fatalf("daemon exited with %v", err)
		}
	case <-time.After(limit):
		d.t.Fatalf("daemon still running %s later", limit)
	}
	return time.Since(t0)
}

func (d *consoleDaemon) signal(sig os.Signal) {
	d.t.Helper()
	if err := d.proc.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

// call originates a loopback call to the echo extension that stays up until hung up.
func (d *consoleDaemon) call() {
	d.t.Helper()
	if out := d.cmd("originate loopback/9196 &park()"); !uuidRE.MatchString(out) {
		d.t.Fatalf("originate: %q", out)
	}
}

// SIGTERM with calls up drains for -drain-timeout, refusing new calls, then hangs up and exits.
func TestSIGTERMDrainDeadline(t *testing.T) {
	d := startConsoleDaemon(t, "-drain-timeout", "1500ms")
	d.call()
	t0 := time.Now()
	d.signal(syscall.SIGTERM)
	waitFor(t, d.out, "SIGTERM: draining calls")
	if out := d.cmd("originate loopback/9196 &park()"); uuidRE.MatchString(out) {
		t.Errorf("a new call was admitted during the drain: %q", out)
	}
	if out := d.cmd("status"); !strings.Contains(out, "shutting-down 1") && !strings.Contains(out, "shutting-down 2") {
		t.Errorf("status does not count the refusal: %q", out)
	}
	d.wait(10 * time.Second)
	if el := time.Since(t0); el < 1400*time.Millisecond {
		t.Errorf("daemon exited after %s, before the drain deadline", el)
	}
	if !strings.Contains(d.out.String(), "drain deadline passed") {
		t.Error("no log line for the drain deadline")
	}
}

// A second signal during the drain stops at once.
func TestSecondSignalEndsDrain(t *testing.T) {
	for _, second := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(second.String(), func(t *testing.T) {
			d := startConsoleDaemon(t, "-drain-timeout", "5m")
			d.call()
			d.signal(syscall.SIGTERM)
			waitFor(t, d.out, "SIGTERM: draining calls")
			d.signal(second)
			if el := d.wait(5 * time.Second); el > 4*time.Second {
				t.Errorf("second signal took %s", el)
			}
		})
	}
}

// fsctl shutdown elegant waits for the calls to end and still takes new ones (FreeSWITCH's
// SCSC_SHUTDOWN_ELEGANT); asap refuses new ones; cancel undoes either.
func TestFsctlShutdownModes(t *testing.T) {
	d := startConsoleDaemon(t)
	d.call()
	d.cmd("fsctl shutdown elegant")
	waitFor(t, d.out, "waiting for calls to end")
	d.call() // elegant: still admitted
	d.cmd("fsctl shutdown cancel")
	waitFor(t, d.out, "shutdown cancelled")
	d.cmd("fsctl shutdown asap")
	if out := d.cmd("originate loopback/9196 &park()"); uuidRE.MatchString(out) {
		t.Errorf("asap admitted a new call: %q", out)
	}
	select {
	case <-d.done:
		d.ended = true
		t.Fatal("daemon exited with calls up")
	case <-time.After(300 * time.Millisecond):
	}
	d.cmd("hupall")
	d.wait(10 * time.Second)
	if !strings.Contains(d.out.String(), "no calls left") {
		t.Error("no log line for the end of the shutdown")
	}
}

func TestDrainTimeoutFlag(t *testing.T) {
	if o, err := parseFlags(nil, io.Discard); err != nil || o.drainTimeout != -1 {
		t.Errorf("default -drain-timeout %v %v", o.drainTimeout, err)
	}
	if o, err := parseFlags([]string{"-drain-timeout", "2s"}, io.Discard); err != nil || o.drainTimeout != 2*time.Second {
		t.Errorf("-drain-timeout 2s: %v %v", o.drainTimeout, err)
	}
}

// fsctl shutdown restart stops and starts again in the same process, as FreeSWITCH re-executes
// itself; the restarted daemon answers on the same console.
func TestFsctlShutdownRestart(t *testing.T) {
	d := startConsoleDaemon(t)
	d.call()
	d.cmd("fsctl shutdown restart")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(d.out.String(), "goswitch ready") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := d.cmd("show channels count"); !strings.Contains(out, "0 total") {
		t.Errorf("calls survived the restart: %q", out)
	}
	d.cmd("fsctl shutdown")
	d.wait(10 * time.Second)
}
