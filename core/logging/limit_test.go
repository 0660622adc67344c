package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLimitTruncatesAndSummarizes(t *testing.T) {
	var buf lockedBuf
	h := Limit(slog.NewTextHandler(&buf, nil), LimitOptions{})
	log := slog.New(h).With("profile", "internal")
	big := strings.Repeat("A", 60000)
	for range 100 {
		log.Error("failed to parse", "data", big, "raw", []byte(big))
	}
	log.Error("failed to parse", "raddr", "192.0.2.1:5060", "data", "x") // another source: its own allowance
	FlushLimit(h)
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 { // 5 of the flood, the other source, one summary
		t.Fatalf("%d lines:\n%.2000s", len(lines), out)
	}
	for _, l := range lines[:5] {
		if len(l) > 1300 || !strings.Contains(l, "(59488 bytes omitted)") || !strings.Contains(l, "profile=internal") {
			t.Errorf("line not cut: %.300s (%d bytes)", l, len(l))
		}
	}
	if !strings.Contains(lines[5], "raddr=192.0.2.1:5060") {
		t.Errorf("other source suppressed: %s", lines[5])
	}
	if !strings.Contains(lines[6], "suppressed 95 messages") || !strings.Contains(lines[6], "profile=internal") {
		t.Errorf("summary: %s", lines[6])
	}
	// Debug records are cut but not limited; a new second gets a new allowance.
	buf.mu.Lock()
	buf.b.Reset()
	buf.mu.Unlock()
	dbg := slog.New(Limit(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), LimitOptions{}))
	for range 30 {
		dbg.Debug("keepalive", "data", big)
	}
	if n := strings.Count(buf.String(), "keepalive"); n != 30 {
		t.Errorf("%d debug lines, want 30", n)
	}
	lh := Limit(slog.NewTextHandler(&buf, nil), LimitOptions{PerKey: 1, Total: 1}).(*limitHandler)
	now := time.Now()
	if !lh.st.allow(lh.h, "m", "", now) || lh.st.allow(lh.h, "m", "", now.Add(500*time.Millisecond)) ||
		!lh.st.allow(lh.h, "m", "", now.Add(1100*time.Millisecond)) {
		t.Error("window not per second")
	}
	FlushLimit(lh)
}
