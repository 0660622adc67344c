package netguard

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestFramer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		in     bool // in a message after the last chunk
	}{
		{"keepalive", []string{"\r\n\r\n"}, false},
		{"whole", []string{"OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n"}, false},
		{"partial head", []string{"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n"}, true},
		{"split blank line", []string{"OPTIONS sip:a SIP/2.0\r\nl: 0\r\n\r", "\n"}, false},
		{"body pending", []string{"MESSAGE sip:a SIP/2.0\r\nContent-Length: 5\r\n\r\nhel"}, true},
		{"body done", []string{"MESSAGE sip:a SIP/2.0\r\ncontent-length :  5 \r\n\r\nhel", "lo"}, false},
		{"compact", []string{"MESSAGE sip:a SIP/2.0\nl:3\n\nabc"}, false},
		{"two messages", []string{"A\r\nl: 2\r\n\r\nxyB\r\n\r\n"}, false},
		{"second started", []string{"A\r\nl: 2\r\n\r\nxyB\r\n"}, true},
		{"esl", []string{"auth ClueCon\n\n"}, false},
	} {
		var f framer
		for _, c := range tc.chunks {
			f.feed([]byte(c))
		}
		if f.inMessage() != tc.in {
			t.Errorf("%s: inMessage=%v want %v", tc.name, f.inMessage(), tc.in)
		}
	}
}

func listen(t *testing.T, cfg Config) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	l := New(ln, cfg)
	t.Cleanup(func() { l.Close() })
	return l
}

// serve accepts on l and echoes what each connection sends until it closes.
func serve(t *testing.T, l *Listener) {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { l.Close() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
}

func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refused dials addr from src and reports whether the server closed the connection at once (a
// reset may even beat connect's return).
func refused(t *testing.T, src, addr string) bool {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return true
	}
	defer c.Close()
	return closedSoon(c, 2*time.Second)
}

// closedSoon reports whether the server closed c within d.
func closedSoon(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

func echoes(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\r\n\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 8)
	_, err := io.ReadFull(c, buf)
	return err == nil
}

func TestCapsAndAllow(t *testing.T) {
	var banned sync.Map
	l := listen(t, Config{MaxConns: 5, MaxPerSource: 2})
	l.SetAllow(func(a netip.Addr) bool { _, b := banned.Load(a); return !b })
	serve(t, l)
	addr := l.Addr().String()
	a1, a2 := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
	if !echoes(a1) || !echoes(a2) {
		t.Fatal("first two from one source not served")
	}
	if !refused(t, "127.0.0.1", addr) {
		t.Fatal("third from one source not refused")
	}
	if b := dialFrom(t, "127.0.0.2", addr); !echoes(b) {
		t.Fatal("another source not served")
	}
	banned.Store(netip.MustParseAddr("127.0.0.3"), true)
	if !refused(t, "127.0.0.3", addr) {
		t.Fatal("banned source not refused")
	}
	a1.Close()
	deadline := time.Now().Add(2 * time.Second)
	for l.Stats().Active != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if a4 := dialFrom(t, "127.0.0.1", addr); !echoes(a4) {
		t.Fatal("source not served again after one of its connections closed")
	}
	st := l.Stats()
	if st.Refused != 1 || st.Denied != 1 || st.Active != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// flakyListener returns EMFILE for its first n Accepts.
type flakyListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.n > 0 {
		f.n--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestAcceptErrorsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(&flakyListener{Listener: ln, n: 8}, Config{Log: slog.New(slog.DiscardHandler)})
	serve(t, l)
	start := time.Now()
	if c := dialFrom(t, "127.0.0.1", l.Addr().String()); !echoes(c) {
		t.Fatal("not served after EMFILE")
	}
	if st := l.Stats(); st.AcceptErrors != 8 {
		t.Fatalf("accept errors %d", st.AcceptErrors)
	}
	t.Logf("served after 8 EMFILEs in %v", time.Since(start))
	// Close ends a back-off at once.
	l2 := New(&flakyListener{Listener: ln, n: 1 << 30}, Config{Log: slog.New(slog.DiscardHandler)})
	done := make(chan error, 1)
	go func() { _, err := l2.Accept(); done <- err }()
	// Close while Accept is backing off (a few EMFILEs in), not before it started.
	for deadline := time.Now().Add(2 * time.Second); l2.Stats().AcceptErrors < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Accept never met the listener's EMFILE")
		}
	}
	l2.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

func TestMessageAndIdleTimeouts(t *testing.T) {
	l := listen(t, Config{MessageTimeout: 300 * time.Millisecond, IdleTimeout: 1500 * time.Millisecond})
	serve(t, l)
	addr := l.Addr().String()
	silent := dialFrom(t, "127.0.0.1", addr)
	partial := dialFrom(t, "127.0.0.1", addr)
	partial.Write([]byte("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n"))
	good := dialFrom(t, "127.0.0.1", addr)
	if !echoes(good) {
		t.Fatal("complete message not served")
	}
	if !closedSoon(silent, 2*time.Second) || !closedSoon(partial, 2*time.Second) {
		t.Fatal("silent or partial connection not closed after the message timeout")
	}
	// Between messages only the idle timeout applies.
	time.Sleep(600 * time.Millisecond)
	if !echoes(good) {
		t.Fatal("connection closed between messages before the idle timeout")
	}
	if !closedSoon(good, 3*time.Second) {
		t.Fatal("idle connection not closed")
	}
	st := l.Stats()
	if st.MessageTimeouts != 2 || st.IdleTimeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	cert := testCert(t)
	l := listen(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, HandshakeTimeout: 300 * time.Millisecond,
		MaxPerSource: 1})
	serve(t, l)
	addr := l.Addr().String()
	idle := dialFrom(t, "127.0.0.1", addr)
	// The cap applies before the handshake: a second raw connection from the source is refused.
	if !refused(t, "127.0.0.1", addr) {
		t.Fatal("cap not applied before the handshake")
	}
	if !closedSoon(idle, 2*time.Second) {
		t.Fatal("connection that never handshakes not closed")
	}
	raw := dialFrom(t, "127.0.0.2", addr)
	tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if !echoes(tc) {
		t.Fatal("TLS client not served")
	}
	if st := l.Stats(); st.HandshakeFails != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::", "::1": "::",
	} {
		if got := sourceKey(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("sourceKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzFramer: the framer never panics and ends in the same state however the stream is split
// into reads.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"), uint8(7))
	f.Add([]byte("A\nl: 99999999999999\n\nx"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		var whole, split framer
		whole.feed(data)
		step := int(cut)%16 + 1
		for i := 0; i < len(data); i += step {
			split.feed(data[i:min(i+step, len(data))])
		}
		if whole.st != split.st || whole.left != split.left || whole.seenOne != split.seenOne {
			t.Fatalf("whole %+v, split by %d %+v", whole, step, split)
		}
	})
}

// TestBackToBackMessageGetsItsOwnTime: a message that starts in the read that ends the one before
// it gets the whole message timeout from its own start.
func TestBackToBackMessageGetsItsOwnTime(t *testing.T) {
	l := listen(t, Config{MessageTimeout: 400 * time.Millisecond, IdleTimeout: 5 * time.Second})
	serve(t, l)
	c := dialFrom(t, "127.0.0.1", l.Addr().String())
	c.Write([]byte("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n"))
	time.Sleep(300 * time.Millisecond) // pacing: the first message is slow but within its time
	c.Write([]byte("\r\nOPTIONS sip:b SIP/2.0\r\nVia: y\r\n"))
	time.Sleep(300 * time.Millisecond) // the second one, 600 ms after the first began
	c.Write([]byte("\r\n"))
	if !echoes(c) {
		t.Fatal("the second message was timed from the first one's start")
	}
	if st := l.Stats(); st.MessageTimeouts != 0 {
		t.Fatalf("stats %+v", st)
	}
}
