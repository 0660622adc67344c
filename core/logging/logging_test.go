package logging

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLineFormat(t *testing.T) {
	var buf bytes.Buffer
	h, err := New(Options{Writer: &buf, Color: "off"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	log.Info("New Channel", "name", "sofia/internal/1000@10.0.0.5")
	log.With("uuid", "0b3e6a30-0000-4000-8000-000000000001").Warn("Hangup", "cause", "USER_BUSY")
	log.Debug("hidden at info")
	log.Log(context.Background(), LevelNotice, "notice line", "uuid", "abc")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines %q", lines)
	}
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \[INFO\] logging_test\.go:\d+ New Channel name=sofia/internal/1000@10\.0\.0\.5$`)
	if !re.MatchString(lines[0]) {
		t.Errorf("line 0 %q", lines[0])
	}
	if !regexp.MustCompile(`^0b3e6a30-0000-4000-8000-000000000001 \d{4}-\d\d-\d\d [0-9:.]+ \[WARNING\] logging_test\.go:\d+ Hangup cause=USER_BUSY$`).MatchString(lines[1]) {
		t.Errorf("line 1 %q", lines[1])
	}
	if !regexp.MustCompile(`^abc .* \[NOTICE\] .* notice line$`).MatchString(lines[2]) {
		t.Errorf("line 2 %q", lines[2])
	}
}

func TestLevelsColorFileAndSubscribers(t *testing.T) {
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "log", "goswitch.log")
	h, err := New(Options{Writer: &buf, Color: "on", File: path})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h)
	sub := h.Subscribe(Debug, 2)
	defer sub.Close()
	if !h.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("a debug subscriber must enable debug records")
	}
	log.Debug("dbg")
	log.Error("bad")
	log.Info("third") // queue of 2: dropped
	if sub.Dropped() != 1 {
		t.Errorf("dropped %d", sub.Dropped())
	}
	r := <-sub.C()
	if r.Level != Debug || !strings.HasSuffix(r.Text, " dbg\n") || r.File != "logging_test.go" {
		t.Errorf("record %+v", r)
	}
	if strings.Contains(buf.String(), "dbg") {
		t.Error("console shows debug at info level")
	}
	if !strings.Contains(buf.String(), "\x1b[31m") || !strings.Contains(buf.String(), "[ERR]") {
		t.Errorf("colour: %q", buf.String())
	}
	h.SetLevel(Debug)
	log.Debug("now visible")
	if !strings.Contains(buf.String(), "\x1b[33m") || !strings.Contains(buf.String(), "now visible") {
		t.Errorf("debug after SetLevel: %q", buf.String())
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := h.Reopen(); err != nil {
		t.Fatal(err)
	}
	log.Warn("after reopen")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "[ERR]") || !strings.Contains(string(cur), "after reopen") || strings.Contains(string(cur), "\x1b[") {
		t.Errorf("file:\n%s\n--\n%s", old, cur)
	}
	sub.Close()
	if h.Enabled(context.Background(), slog.LevelDebug-1) {
		t.Error("closed subscriber still enables")
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]int{"debug": 7, "7": 7, "INFO": 6, "notice": 5, "warning": 4, "err": 3, "error": 3, "crit": 2, "alert": 1, "console": 0} {
		if got, ok := ParseLevel(in); !ok || got != want {
			t.Errorf("ParseLevel(%q) = %d %v", in, got, ok)
		}
		if FromSlog(ToSlog(want)) != want {
			t.Errorf("round trip %d", want)
		}
	}
	if _, ok := ParseLevel("8"); ok {
		t.Error("8 accepted")
	}
}
