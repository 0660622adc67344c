package esl_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/core/api" // the ban API
	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/xmlconf"
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
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// newSecEnv is newEnv with the log kept and event_socket.conf's extra params.
func newSecEnv(t *testing.T, extra string) (*env, *lockedBuf) {
	t.Helper()
	dir := t.TempDir()
	conf := strings.Replace(confXML, `<param name="password" value="ClueCon"/>`, `<param name="password" value="ClueCon"/>`+extra, 1)
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuf{}
	lh, err := logging.New(logging.Options{Writer: logs, Color: "off"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{Log: slog.New(lh), LogLevel: lh.Level(),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) }})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := esl.FromHost(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx, core.CauseSystemShutdown)
		_ = srv.Stop(ctx)
		_ = lh.Close()
	})
	return &env{h: h, srv: srv, addr: ln.Addr().String(), log: lh}, logs
}

// dialFrom connects from a chosen loopback source; the first return is false when the server
// closed the connection without its auth/request banner.
func (e *env) dialFrom(t *testing.T, src string) (*raw, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
	line, err := r.r.ReadString('\n')
	if err != nil {
		return r, false
	}
	if line != "Content-Type: auth/request\n" {
		t.Fatalf("banner %q", line)
	}
	r.r.ReadString('\n')
	return r, true
}

// tryAuth sends auth and reports whether it was accepted.
func (r *raw) tryAuth(pass string) bool {
	r.send("auth " + pass + "\n\n")
	if _, err := r.r.ReadString('\n'); err != nil { // Content-Type: command/reply
		return false
	}
	line, _ := r.r.ReadString('\n')
	return strings.Contains(line, "+OK accepted")
}

// TestESLBruteForceLockedOut: five wrong passwords from 127.0.0.3 ban it: its next connection
// is closed before the banner, a connection it opened before the ban is refused the right
// password, and a SECURITY line and goswitch::banned record it; 127.0.0.4 still logs in.
// `ban del` lifts the ban. Each failure is answered after auth-fail-delay.
func TestESLBruteForceLockedOut(t *testing.T) {
	e, logs := newSecEnv(t, `<param name="auth-fail-delay" value="100"/>`)
	early, ok := e.dialFrom(t, "127.0.0.3")
	if !ok {
		t.Fatal("first connection refused")
	}
	start := time.Now()
	for i := 0; i < 5; i++ {
		r, ok := e.dialFrom(t, "127.0.0.3")
		if !ok {
			t.Fatalf("connection %d closed before the ban", i+1)
		}
		if r.tryAuth("guess") {
			t.Fatal("wrong password accepted")
		}
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("5 failures took %v, want >= 5 x auth-fail-delay", d)
	}
	if _, ok := e.dialFrom(t, "127.0.0.3"); ok {
		t.Error("banned source got the banner")
	}
	if early.tryAuth("ClueCon") {
		t.Error("banned source's open connection accepted the right password")
	}
	if r, ok := e.dialFrom(t, "127.0.0.4"); !ok || !r.tryAuth("ClueCon") {
		t.Error("another source could not log in")
	}
	if !strings.Contains(logs.String(), "SECURITY banned src=127.0.0.3 user=- service=esl reason=auth-failures secs=900") ||
		!strings.Contains(logs.String(), "SECURITY auth-failure src=127.0.0.3 user=- service=esl reason=bad-password") {
		t.Errorf("no SECURITY lines:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "SECURITY auth-failure src=127.0.0.3 "); n != 6 {
		t.Errorf("%d auth-failure lines, want 6 (5 wrong, 1 refused while banned)", n)
	}
	if out, _ := e.h.APIOutput(context.Background(), "ban", "list"); !strings.Contains(out, "127.0.0.3 ") || !strings.Contains(out, " esl ") {
		t.Errorf("ban list:\n%s", out)
	}
	if out, _ := e.h.APIOutput(context.Background(), "ban", "del 127.0.0.3"); !strings.Contains(out, "+OK") {
		t.Fatalf("ban del: %q", out)
	}
	if r, ok := e.dialFrom(t, "127.0.0.3"); !ok || !r.tryAuth("ClueCon") {
		t.Error("unbanned source could not log in")
	}
}

// TestESLTrustedACL: a source in auth-trusted-acl is never banned.
func TestESLTrustedACL(t *testing.T) {
	e, _ := newSecEnv(t, `<param name="auth-fail-delay" value="0"/><param name="auth-fail-max" value="2"/>
        <param name="auth-trusted-acl" value="127.0.0.6/32"/>`)
	for i := 0; i < 4; i++ {
		if r, ok := e.dialFrom(t, "127.0.0.6"); ok {
			r.tryAuth("x")
		}
	}
	if r, ok := e.dialFrom(t, "127.0.0.6"); !ok || !r.tryAuth("ClueCon") {
		t.Error("trusted source locked out")
	}
}
