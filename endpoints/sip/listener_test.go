//go:build linux

package sip

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goswitch/goswitch/internal/connflood"
)

// Listener survival (issue 10, item 2). The floods run in child processes (this test binary
// re-executed with an environment variable), so that the flooding side's descriptors do not
// count against the server's RLIMIT_NOFILE and setrlimit never touches the parent.

const childEnv = "GOSWITCH_TEST_LISTENER_CHILD"

// noFileLimit raises this process's soft RLIMIT_NOFILE to the hard limit and returns it.
func noFileLimit(t *testing.T) int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Fatal(err)
	}
	r.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Fatal(err)
	}
	return int(r.Cur)
}

// child is a re-executed test binary running one of the *Child tests below.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	done  chan struct{}
}

func startChild(t *testing.T, test string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, childEnv+"=1")...)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, in: in, lines: make(chan string, 100), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "child: ") {
				c.lines <- strings.TrimPrefix(l, "child: ")
			}
		}
	}()
	t.Cleanup(func() {
		c.in.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
		c.cmd.Wait()
	})
	return c
}

// expect waits for a line from the child starting with prefix and returns the rest.
func (c *child) expect(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l := <-c.lines:
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
		case <-c.done:
			t.Fatalf("child exited before %q", prefix)
		case <-timeout:
			t.Fatalf("child: no %q within %v", prefix, d)
		}
	}
}

func (c *child) send(cmd string) { fmt.Fprintln(c.in, cmd) }

// TestFloodChild opens and holds connections to $FLOOD_ADDRS until its stdin closes.
func TestFloodChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("child of TestConnectionFloodLeavesOthersServed")
	}
	n, _ := strconv.Atoi(os.Getenv("FLOOD_N"))
	port0, _ := strconv.Atoi(os.Getenv("FLOOD_PORT0"))
	var floods []*connflood.Flood
	// Bounded: against a dead listener every dial waits for its timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, addr := range strings.Split(os.Getenv("FLOOD_ADDRS"), ",") {
		start := time.Now()
		f := connflood.OpenPorts(ctx, addr, "127.0.0.1", port0, n, 64, nil)
		floods = append(floods, f)
		fmt.Printf("child: opened %s %d failed %d in %v\n", addr, f.Opened(), f.Failed, time.Since(start).Round(time.Millisecond))
	}
	fmt.Println("child: ready")
	io.Copy(io.Discard, os.Stdin)
	for _, f := range floods {
		f.Close()
	}
}

// TestConnectionFloodLeavesOthersServed: 20,000 connections from one source to the TCP and the
// TLS port (never handshaking) leave both serving OPTIONS from another source while the flood
// is held, and serving the flooding source again once it ends. Before the guard, the server's
// accepts hit EMFILE and sipgo's accept loop ended: 5060/TCP was dead until restart.
func TestConnectionFloodLeavesOthersServed(t *testing.T) {
	hard := noFileLimit(t)
	// Enough flooding processes that each fits its share of both floods in its own limit.
	total := 20000
	budget := (hard - 200) / 2
	nkids := (total + budget - 1) / budget
	if nkids > 6 { // a low hard limit: a smaller flood rather than dozens of processes
		nkids, total = 6, 6*budget
		t.Logf("hard RLIMIT_NOFILE %d is low: flooding with %d connections per listener", hard, total)
	}
	per := (total + nkids - 1) / nkids
	t.Logf("RLIMIT_NOFILE %d: %d processes x %d connections to each of TCP and TLS", hard, nkids, per)
	env := newEnv(t, envOpt{internalExtra: `<param name="tls" value="true"/>`})
	p, _ := env.ep.Profile("internal")
	tcpAddr, tlsAddr := p.Addr().String(), p.TLSAddr().String()
	start := time.Now()
	var kids []*child
	for i := 0; i < nkids; i++ {
		// Source ports 12000 and up, each process its own block (see connflood.OpenPorts).
		port0 := 12000 + i*(per+per/4)
		kids = append(kids, startChild(t, "TestFloodChild", "FLOOD_ADDRS="+tcpAddr+","+tlsAddr,
			"FLOOD_N="+strconv.Itoa(per), "FLOOD_PORT0="+strconv.Itoa(port0)))
	}
	// A dial the server refuses at once may itself fail (the reset beats connect's return): it
	// still reached the server, so both count.
	opened, tried := 0, 0
	for _, k := range kids {
		for _, a := range []string{tcpAddr, tlsAddr} {
			f := strings.Fields(k.expect(t, "opened "+a, 30*time.Second))
			n, _ := strconv.Atoi(f[0])
			failed, _ := strconv.Atoi(f[2])
			opened, tried = opened+n, tried+n+failed
		}
		k.expect(t, "ready", 30*time.Second)
	}
	t.Logf("flood: %d connections from 127.0.0.1 to TCP and TLS (%d dials returned a connection) in %v",
		tried, opened, time.Since(start).Round(time.Millisecond))
	if tried < nkids*per*2 {
		t.Errorf("only %d flood connections", tried)
	}
	for _, pr := range []struct {
		addr string
		tls  bool
	}{{tcpAddr, false}, {tlsAddr, true}} {
		t0 := time.Now()
		line, err := connflood.Probe(pr.addr, "127.0.0.2", pr.tls, 5*time.Second)
		if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
			t.Errorf("OPTIONS from 127.0.0.2 (tls=%v) during the flood: %q %v", pr.tls, line, err)
			continue
		}
		t.Logf("OPTIONS from 127.0.0.2 (tls=%v) during the flood: %s in %v", pr.tls, line, time.Since(t0).Round(time.Millisecond))
	}
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal")
	for _, l := range strings.Split(st, "\n") {
		if strings.HasPrefix(l, "TCP-") || strings.HasPrefix(l, "TLS-") {
			t.Log(strings.ReplaceAll(l, "\t", " "))
		}
	}
	for _, k := range kids {
		k.in.Close()
		<-k.done
	}
	t0 := time.Now()
	for _, pr := range []struct {
		addr string
		tls  bool
	}{{tcpAddr, false}, {tlsAddr, true}} {
		waitFor(t, "OPTIONS from the flooding source after the flood", 5*time.Second, func() bool {
			line, err := connflood.Probe(pr.addr, "127.0.0.1", pr.tls, time.Second)
			return err == nil && strings.HasPrefix(line, "SIP/2.0 200")
		})
	}
	t.Logf("flooding source served again %v after the flood ended", time.Since(t0).Round(time.Millisecond))
}

// TestSlowlorisAndSilentTLSClosed: connections that send half a header, and TLS connections
// that never handshake, are closed after tcp-message-timeout and tls-handshake-timeout; a
// connection between two complete messages is not.
func TestSlowlorisAndSilentTLSClosed(t *testing.T) {
	noFileLimit(t)
	env := newEnv(t, envOpt{internalExtra: `<param name="tls" value="true"/>
		<param name="tcp-message-timeout" value="1"/><param name="tls-handshake-timeout" value="1s"/>
		<param name="tcp-max-connections-per-source" value="1000"/>`})
	p, _ := env.ep.Profile("internal")
	tcpAddr, tlsAddr := p.Addr().String(), p.TLSAddr().String()
	const n = 250
	partial := []byte("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKslow\r\nFrom: <sip:a@b>;tag=1\r\n")
	slow := connflood.Open(t.Context(), tcpAddr, "127.0.0.1", n, 16, partial)
	defer slow.Close()
	silent := connflood.Open(t.Context(), tlsAddr, "127.0.0.1", n, 16, nil)
	defer silent.Close()
	if slow.Opened() != n || silent.Opened() != n {
		t.Fatalf("opened %d slow, %d silent TLS", slow.Opened(), silent.Opened())
	}
	// A well-behaved client on the same port: one message now, the next after the timeout.
	good := newTCPClient(t, tcpAddr)
	if res := good.options(t, 1); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("OPTIONS: %q", res)
	}
	start := time.Now()
	waitFor(t, "slowloris and silent TLS connections closed", 8*time.Second, func() bool {
		return slow.Held() == 0 && silent.Held() == 0
	})
	t.Logf("%d slowloris + %d silent TLS connections closed %v after they were opened", n, n, time.Since(start).Round(time.Millisecond))
	if res := good.options(t, 2); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("second OPTIONS on a connection idle for longer than the message timeout: %q", res)
	}
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal")
	if !strings.Contains(st, "TCP-TIMEOUTS     \t"+strconv.Itoa(n)+"\n") || !strings.Contains(st, "TLS-TIMEOUTS     \t"+strconv.Itoa(n)+"\n") {
		t.Errorf("sofia status profile internal: want %d TCP and TLS timeouts:\n%s", n, st)
	}
	// One rate-limited WARNING, not a line per connection.
	logs := env.logs.String()
	if w := strings.Count(logs, "level=WARN"); w == 0 || w > 4 || !strings.Contains(logs, `msg="connection timed out; closing"`) {
		t.Errorf("%d WARNING lines for %d timed out connections", w, 2*n)
	}
}

// TestEMFILEChild runs goswitch, lowers and restores its RLIMIT_NOFILE on command.
func TestEMFILEChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("child of TestAcceptSurvivesEMFILE")
	}
	env := newEnv(t, envOpt{})
	fmt.Printf("child: addr %s\n", env.addr(t, "internal"))
	var orig syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "lower":
			fds, _ := os.ReadDir("/proc/self/fd")
			lim := syscall.Rlimit{Cur: uint64(len(fds) + 6), Max: orig.Max}
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("child: lowered %d\n", lim.Cur)
		case "wait-emfile":
			seen := false
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && !seen; time.Sleep(20 * time.Millisecond) {
				l := env.logs.String()
				seen = strings.Contains(l, "too many open files")
			}
			fmt.Printf("child: emfile %v\n", seen)
			fmt.Printf("child: warned %v\n", strings.Contains(env.logs.String(), `level=WARN msg="accept failed; retrying"`))
		case "restore":
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
				t.Fatal(err)
			}
			fmt.Println("child: restored")
		}
	}
}

// TestAcceptSurvivesEMFILE: a goswitch whose accept hits EMFILE (RLIMIT_NOFILE lowered in a
// child process, then connections) accepts again once descriptors are available. Before the
// guard, sipgo's accept loop returned on the first EMFILE and 5060/TCP stayed dead.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	c := startChild(t, "TestEMFILEChild")
	addr := c.expect(t, "addr ", 20*time.Second)
	c.send("lower")
	t.Logf("child RLIMIT_NOFILE lowered to %s", c.expect(t, "lowered ", 5*time.Second))
	flood := connflood.Open(t.Context(), addr, "127.0.0.1", 40, 4, nil)
	defer flood.Close()
	c.send("wait-emfile")
	if got := c.expect(t, "emfile ", 10*time.Second); got != "true" {
		t.Fatalf("accept never hit EMFILE (%d connections opened)", flood.Opened())
	}
	if got := c.expect(t, "warned ", 5*time.Second); got != "true" {
		t.Errorf("no WARNING logged for the accept error")
	}
	c.send("restore")
	c.expect(t, "restored", 5*time.Second)
	t0 := time.Now()
	line, err := connflood.Probe(addr, "127.0.0.2", false, 5*time.Second)
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("OPTIONS after EMFILE and restore: %q %v", line, err)
	}
	t.Logf("served again %v after the limit was restored", time.Since(t0).Round(time.Millisecond))
}

// tcpClient is one persistent SIP-over-TCP connection.
type tcpClient struct {
	c    net.Conn
	r    *bufio.Reader
	addr string
}

func newTCPClient(t *testing.T, addr string) *tcpClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &tcpClient{c: c, r: bufio.NewReader(c), addr: addr}
}

// options sends OPTIONS with CSeq n and returns the response's status line ("" on error).
func (u *tcpClient) options(t *testing.T, n int) string {
	t.Helper()
	la := u.c.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKkeep%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:keep@%s>;tag=k\r\nTo: <sip:%s>\r\nCall-ID: keep-%s\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n",
		u.addr, la, n, la, u.addr, la, n)
	u.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := u.c.Write([]byte(msg)); err != nil {
		return ""
	}
	status := ""
	clen := 0
	for {
		l, err := u.r.ReadString('\n')
		if err != nil {
			return ""
		}
		l = strings.TrimRight(l, "\r\n")
		if status == "" {
			status = l
			continue
		}
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(k, "content-length") || k == "l") {
			clen, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	io.CopyN(io.Discard, u.r, int64(clen))
	return status
}

// TestAcceptFilterAndStreamParams: the accept filter (the ban-list hook) refuses a source's
// TCP and TLS connections at accept and counts them; the stream parameters parse.
func TestAcceptFilterAndStreamParams(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: `<param name="tls" value="true"/>
		<param name="tcp-max-connections" value="50"/><param name="tcp-max-connections-per-source" value="7"/>
		<param name="tcp-idle-timeout" value="600"/><param name="tcp-message-timeout" value="2.5"/>
		<param name="tcp-write-timeout" value="0"/><param name="tls-handshake-timeout" value="1500ms"/>`})
	p, _ := env.ep.Profile("internal")
	want := StreamLimits{MaxConns: 50, MaxPerSource: 7, Idle: 600 * time.Second, Message: 2500 * time.Millisecond,
		Handshake: 1500 * time.Millisecond}
	if got := p.Config().Stream; got != want {
		t.Errorf("stream limits %+v, want %+v", got, want)
	}
	if ext, _ := env.ep.Profile("external"); ext.Config().Stream != DefaultStreamLimits {
		t.Errorf("defaults %+v", ext.Config().Stream)
	}
	banned := netip.MustParseAddr("127.0.0.2")
	env.ep.SetAcceptFilter(func(a netip.Addr) bool { return a != banned })
	for _, pr := range []struct {
		addr string
		tls  bool
	}{{p.Addr().String(), false}, {p.TLSAddr().String(), true}} {
		if line, err := connflood.Probe(pr.addr, "127.0.0.2", pr.tls, 2*time.Second); err == nil {
			t.Errorf("filtered source served (tls=%v): %q", pr.tls, line)
		}
		if line, err := connflood.Probe(pr.addr, "127.0.0.1", pr.tls, 2*time.Second); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
			t.Errorf("other source (tls=%v): %q %v", pr.tls, line, err)
		}
	}
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal")
	if !strings.Contains(st, "TCP-DENIED       \t1\n") || !strings.Contains(st, "TLS-DENIED       \t1\n") {
		t.Errorf("sofia status profile internal:\n%s", st)
	}
	env.ep.SetAcceptFilter(nil)
	if line, err := connflood.Probe(p.Addr().String(), "127.0.0.2", false, 2*time.Second); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Errorf("source not served after the filter was removed: %q %v", line, err)
	}
}
