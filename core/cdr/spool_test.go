package cdr_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/cdr"
	"github.com/goswitch/goswitch/internal/testhost"
)

// tinyDisk mounts a 1 MiB tmpfs at a new directory and unmounts it at cleanup.
func tinyDisk(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := "cannot mount a tmpfs (needs root): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file on dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for { // the last pages that fit only a few bytes
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return p
}

// TestSpoolSurvivesFullDisk: CDRs reported while the disk is full are written, each once and in
// the order of the calls, to Master.csv and the sqlite table when space returns.
func TestSpoolSurvivesFullDisk(t *testing.T) {
	disk := tinyDisk(t)
	dbPath := filepath.Join(disk, "cdr.db")
	cfg := conf(disk, "a", "default", `<param name="sqlite" value="true"/><param name="sqlite-db" value="`+dbPath+`"/>`)
	cfg = strings.Replace(cfg, `<configuration name="event_socket.conf"`, `<configuration name="switch.conf"><settings>
    <param name="sessions-per-second" value="10000"/></settings></configuration>
  <configuration name="event_socket.conf"`, 1)
	h := testhost.New(t, testhost.Document(cfg, contexts), nil)
	c := &captured{}
	h.OnReporting(func(s *core.Session) {
		if s.Originator() != nil { // legs=a
			return
		}
		c.mu.Lock()
		c.rows = append(c.rows, map[string]string{"uuid": s.Var("uuid")})
		c.mu.Unlock()
	})
	m, ok := cdr.FromHost(h)
	if !ok {
		t.Fatal("no mod_cdr_csv")
	}
	placed := 0
	call := func() { // one call at a time: both legs reported before the next starts
		_, _ = h.Originate(context.Background(), "{target=error/user_busy}loopback/bridge", core.OriginateOptions{})
		placed++
		testhost.WaitGone(t, h, 5*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for {
			c.mu.Lock()
			n := len(c.rows)
			c.mu.Unlock()
			if n == 2*placed {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d CDRs reported for %d calls", n, placed)
			}
			time.Sleep(time.Millisecond)
		}
	}
	call() // Master.csv and the database exist before the disk fills
	if err := m.DB().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	filler := fill(t, disk)
	const calls = 150
	for range calls {
		call()
	}
	master := filepath.Join(disk, "cdr-csv", "Master.csv")
	want := 2 * (calls + 1)
	before := len(readLines(t, master))
	t.Logf("disk full: %d of %d lines in Master.csv", before, want)
	if before >= want {
		t.Fatal("every line was written: the disk was not full")
	}
	st, _ := h.APIOutput(context.Background(), "cdr_csv", "status")
	t.Logf("cdr_csv status while full:\n%s", st)
	if !strings.Contains(st, "pending ") || strings.Contains(st, "pending 0\n") {
		t.Errorf("cdr_csv status shows nothing pending while the disk is full:\n%s", st)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(readLines(t, master)) < want {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after space returned: %d of %d lines written", len(readLines(t, master)), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := readLines(t, master)
	c.mu.Lock()
	reported := append([]map[string]string(nil), c.rows...)
	c.mu.Unlock()
	if len(got) != want || len(reported) != want {
		t.Fatalf("%d lines in Master.csv, %d reported, want %d", len(got), len(reported), want)
	}
	// Each call's two legs hang up together; the calls follow each other.
	pos := map[string]int{}
	for i, l := range got {
		for _, r := range reported {
			if strings.Contains(l, `"`+r["uuid"]+`"`) {
				if _, dup := pos[r["uuid"]]; dup {
					t.Fatalf("uuid %s written twice", r["uuid"])
				}
				pos[r["uuid"]] = i
			}
		}
	}
	for i, r := range reported {
		p, ok := pos[r["uuid"]]
		if !ok {
			t.Fatalf("CDR %d (%s) never written", i, r["uuid"])
		}
		if p/2 != i/2 {
			t.Errorf("CDR of call %d at line %d", i/2, p)
		}
	}
	if err := m.DB().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := m.DB().SQL().QueryRow(`SELECT count(*) FROM cdr`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d sqlite rows, want %d", n, want)
	}
	st, _ = h.APIOutput(context.Background(), "cdr_csv", "status")
	if !strings.Contains(st, "pending 0\npending-sqlite 0\ndropped 0\n") {
		t.Errorf("cdr_csv status after space returned:\n%s", st)
	}
	t.Logf("after space returned: %d lines, %d sqlite rows", len(got), n)
}
