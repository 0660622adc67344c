package sip

import (
	"bytes"
	"context"
	"fmt"
	"github.com/goswitch/goswitch/internal/peer"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/xmlconf"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	_ "github.com/goswitch/goswitch/endpoints/user"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sipgo's transaction layer keeps timer goroutines for up to 64*T1 after a transaction;
		// they are bounded and end by themselves.
		goleak.IgnoreAnyFunction("time.Sleep"),
		goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*ServerTx).spinFsmWithError"),
		// A UDP dial socket sipgo opens for a request racing the UA's Close is not in the pool
		// Close empties, so its reader outlives the test (sipgo v1.7.2 transport_udp.go); rare,
		// one socket per race, and not goswitch's goroutine.
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"),
	)
}

// testConf is a small conf tree: two profiles on 127.0.0.1 with random ports, users 1000-1003,
// a gateway pointing at {{gw}}, and a dialplan for the interop tests.
const testConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
<X-PRE-PROCESS cmd="set" data="domain=127.0.0.1"/>
<section name="configuration">
  <configuration name="switch.conf">
    <settings>
      <param name="max-sessions" value="5000"/>
      <param name="sessions-per-second" value="5000"/>
    </settings>
  </configuration>
  <configuration name="acl.conf">
    <network-lists>
      <list name="trusted" default="deny">
        <node type="allow" cidr="127.0.0.2/32"/>
      </list>
    </network-lists>
  </configuration>
  <configuration name="sofia.conf">
    <global_settings><param name="log-level" value="0"/></global_settings>
    <profiles>
      <profile name="internal">
        <settings>
          <param name="sip-ip" value="127.0.0.1"/>
          <param name="rtp-ip" value="127.0.0.1"/>
          <param name="sip-port" value="0"/>
          <param name="context" value="public"/>
          <param name="dialplan" value="XML"/>
          <param name="auth-calls" value="true"/>
          <param name="challenge-realm" value="auto_from"/>
          <param name="inbound-codec-prefs" value="PCMU,PCMA"/>
          <param name="outbound-codec-prefs" value="PCMU,PCMA"/>
          <param name="user-agent-string" value="goswitch-test"/>
          <param name="multiple-registrations" value="contact"/>
          {{internal_extra}}
        </settings>
      </profile>
      <profile name="external">
        <settings>
          <param name="sip-ip" value="127.0.0.1"/>
          <param name="sip-port" value="0"/>
          <param name="context" value="public"/>
          <param name="auth-calls" value="false"/>
          <param name="inbound-codec-prefs" value="PCMU,PCMA"/>
          {{external_extra}}
        </settings>
        <gateways>
          <gateway name="gw1">
            <param name="username" value="gwuser"/>
            <param name="password" value="gwpass"/>
            <param name="realm" value="127.0.0.1"/>
            <param name="proxy" value="{{gw}}"/>
            <param name="register" value="{{gw_register}}"/>
            <param name="ping" value="{{gw_ping}}"/>
            <param name="retry-seconds" value="1"/>
          </gateway>
        </gateways>
      </profile>
    </profiles>
  </configuration>
</section>
<section name="directory">
  <domain name="127.0.0.1">
    <params>
      <param name="dial-string" value="{presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}"/>
    </params>
    <groups><group name="default"><users>
      <user id="1000"><params><param name="password" value="1234"/></params>
        <variables><variable name="user_context" value="default"/><variable name="effective_caller_id_number" value="1000"/>
          <variable name="effective_caller_id_name" value="Extension 1000"/></variables></user>
      <user id="1001"><params><param name="password" value="1234"/></params>
        <variables><variable name="user_context" value="default"/><variable name="effective_caller_id_name" value="Extension 1001"/>
          <variable name="effective_caller_id_number" value="1001"/></variables></user>
      <user id="1002"><params><param name="a1-hash" value="{{a1}}"/></params>
        <variables><variable name="user_context" value="default"/></variables></user>
      <user id="gwuser"><params><param name="password" value="gwpass"/></params></user>
      <user id="1003"><params><param name="password" value="1234"/></params>
        <variables><variable name="user_context" value="default"/></variables></user>
    </users></group></groups>
  </domain>
</section>
<section name="dialplan">
  <context name="public">
    <extension name="public_extensions"><condition field="destination_number" expression="^pub(10[0-9][0-9])$">
      <action application="transfer" data="$1 XML default"/></condition></extension>
    <extension name="respond"><condition field="destination_number" expression="^5002$">
      <action application="respond" data="404 Nobody Here"/></condition></extension>
    <extension name="redirect"><condition field="destination_number" expression="^5003$">
      <action application="redirect" data="sip:9196@127.0.0.1"/></condition></extension>
    <extension name="echo"><condition field="destination_number" expression="^9196$">
      <action application="answer"/><action application="echo"/></condition></extension>
    <extension name="delay_echo"><condition field="destination_number" expression="^9194$">
      <action application="answer"/><action application="delay_echo" data="1000"/></condition></extension>
    <extension name="pcma_answer"><condition field="destination_number" expression="^9197$">
      <action application="set" data="absolute_codec_string=PCMA"/><action application="answer"/><action application="echo"/></condition></extension>
    <extension name="inherit"><condition field="destination_number" expression="^6(10[0-9][0-9])$">
      <action application="set" data="inherit_codec=true"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>
    <extension name="g729_answer"><condition field="destination_number" expression="^9198$">
      <action application="set" data="codec_string=G729"/><action application="answer"/><action application="echo"/></condition></extension>
  </context>
  <context name="default">{{default_extra}}
    <extension name="echo"><condition field="destination_number" expression="^9196$">
      <action application="answer"/><action application="echo"/></condition></extension>
    <extension name="sleep_then_answer"><condition field="destination_number" expression="^9195$">
      <action application="sleep" data="1000"/><action application="answer"/><action application="echo"/></condition></extension>
    <extension name="park"><condition field="destination_number" expression="^9999$">
      <action application="answer"/><action application="park"/></condition></extension>
    <extension name="busy"><condition field="destination_number" expression="^5000$">
      <action application="hangup" data="USER_BUSY"/></condition></extension>
    <extension name="respond"><condition field="destination_number" expression="^5002$">
      <action application="respond" data="404 Nobody Here"/></condition></extension>
    <extension name="redirect"><condition field="destination_number" expression="^5003$">
      <action application="redirect" data="sip:9196@127.0.0.1"/></condition></extension>
    <extension name="vars"><condition field="destination_number" expression="^5001$">
      <action application="set" data="got_from=${sip_from_user}"/>
      <action application="answer"/><action application="park"/></condition></extension>
    <extension name="gateway"><condition field="destination_number" expression="^8(\d+)$">
      <action application="bridge" data="sofia/gateway/gw1/$1"/></condition></extension>
    <extension name="pcma"><condition field="destination_number" expression="^7(\d{4})$">
      <action application="bridge" data="{absolute_codec_string=PCMA,sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>
    <extension name="meta"><condition field="destination_number" expression="^6(10[0-9][0-9])$">
      <action application="bind_meta_app" data="1 a s info"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>
    <extension name="meta_b"><condition field="destination_number" expression="^metab(10[0-9][0-9])$">
      <action application="bind_meta_app" data="1 b s set::meta_fired=yes"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>
    <extension name="users"><condition field="destination_number" expression="^(10[0-9][0-9])$">
      <action application="set" data="hangup_after_bridge=true"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>
  </context>
</section>
</document>
`

type testEnv struct {
	h    *core.Host
	ep   *Endpoint
	dir  string
	logs *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type envOpt struct {
	gw            string // gateway proxy host:port
	gwRegister    bool
	internalExtra string
	externalExtra string
	dbDir         string
	defaultExtra  string // extensions added to the default context
	quiet         bool   // log warnings and errors only (benchmarks)
}

func newEnv(t testing.TB, o envOpt) *testEnv {
	t.Helper()
	dir := t.TempDir()
	if o.gw == "" {
		o.gw = "127.0.0.1:9"
	}
	conf := strings.ReplaceAll(testConf, "{{gw}}", o.gw)
	conf = strings.ReplaceAll(conf, "{{internal_extra}}", o.internalExtra)
	conf = strings.ReplaceAll(conf, "{{external_extra}}", o.externalExtra)
	conf = strings.ReplaceAll(conf, "{{default_extra}}", o.defaultExtra)
	conf = strings.ReplaceAll(conf, "{{gw_register}}", strconv.FormatBool(o.gwRegister))
	ping := "0"
	if o.gwRegister {
		ping = "1"
	}
	conf = strings.ReplaceAll(conf, "{{gw_ping}}", ping)
	conf = strings.ReplaceAll(conf, "{{a1}}", md5hex("1002:127.0.0.1:1234"))
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	db := o.dbDir
	if db == "" {
		db = filepath.Join(dir, "db")
		os.MkdirAll(db, 0o755)
	}
	logs := &syncBuf{}
	level := slog.LevelDebug
	if o.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	h, err := core.NewHost(core.HostOptions{
		Log:  log,
		Dirs: core.Dirs{Conf: dir, DB: db, Certs: filepath.Join(dir, "certs")},
		Load: func() (*xmlconf.Snapshot, error) {
			return xmlconf.Load(xmlconf.Options{Dir: dir, Globals: map[string]string{}})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := &testEnv{h: h, dir: dir, logs: logs}
	ep, _ := h.Endpoint("sofia")
	env.ep = ep.(*Endpoint)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Stop(ctx, core.CauseSystemShutdown)
		if t.Failed() {
			t.Logf("goswitch log:\n%s", tail(logs.String(), 12000))
		}
	})
	return env
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (e *testEnv) addr(t testing.TB, profile string) netip.AddrPort {
	p, ok := e.ep.Profile(profile)
	if !ok {
		t.Fatalf("no profile %s", profile)
	}
	return p.Addr()
}

// sippPath returns the sipp binary or skips (fails under CI=true).
func sippPath(t *testing.T) string {
	p, err := exec.LookPath("sipp")
	if err != nil {
		peer.Missing(t, "sipp not installed")
	}
	return p
}

func scenario(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "sipp", name))
	return p
}

// sipp runs one SIPp instance to completion.
type sippRun struct {
	cmd      *exec.Cmd
	out      syncBuf
	done     chan error
	dir      string
	finished bool
}

func startSIPp(t *testing.T, target netip.AddrPort, args ...string) *sippRun {
	t.Helper()
	bin := sippPath(t)
	dir := t.TempDir()
	base := []string{target.String(), "-i", "127.0.0.1"}
	if !slices.Contains(args, "-p") {
		base = append(base, "-p", itoa(freeUDPPort(t)))
	}
	full := append(base, "-m", "1", "-timeout", "30s", "-timeout_error",
		"-nostdin", "-trace_err", "-trace_msg", "-message_file", filepath.Join(dir, "msg.log"),
		"-error_file", filepath.Join(dir, "err.log"))
	full = append(full, args...)
	r := &sippRun{done: make(chan error, 1), dir: dir}
	r.cmd = exec.Command(bin, full...)
	r.cmd.Dir = dir
	r.cmd.Stdout = &r.out
	r.cmd.Stderr = &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			msgs, _ := os.ReadFile(filepath.Join(r.dir, "msg.log"))
			t.Logf("sipp %s output:\n%s\nmessages:\n%s", filepath.Base(args[1]), tail(r.out.String(), 1500), tail(string(msgs), 6000))
		}
		if !r.finished {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *sippRun) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		r.finished = true
		if err != nil {
			msgs, _ := os.ReadFile(filepath.Join(r.dir, "msg.log"))
			errs, _ := os.ReadFile(filepath.Join(r.dir, "err.log"))
			t.Fatalf("%s: sipp failed: %v\n%s\nerrors:\n%s\nmessages:\n%s", what, err, tail(r.out.String(), 2000), tail(string(errs), 3000), tail(string(msgs), 8000))
		}
	case <-time.After(45 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		r.finished = true
		t.Fatalf("%s: sipp did not finish", what)
	}
}

// freeUDPPort returns a port free for UDP and TCP, picked below the kernel's ephemeral range so
// that sockets the stack hands out (RTP ports, other peers) do not take it before SIPp binds it.
func freeUDPPort(t *testing.T) int {
	for i := 0; i < 200; i++ {
		port := 20000 + int(portSeq.Add(1)*7919%10000)
		u, err := net.ListenPacket("udp", "127.0.0.1:"+itoa(port))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

var portSeq atomic.Int64

func init() { portSeq.Store(time.Now().UnixNano() % 10000) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// subscribe collects events of the given names.
func subscribe(h *core.Host, names ...string) *event.Subscription {
	return h.Bus.Subscribe(func(e *event.Event) bool {
		for _, n := range names {
			if e.Name == n || e.Subclass == n {
				return true
			}
		}
		return false
	}, 256)
}

func findSession(h *core.Host, pred func(s *core.Session) bool) *core.Session {
	for _, s := range h.Sessions() {
		if pred(s) {
			return s
		}
	}
	return nil
}

// rtpPeer is the test's media endpoint: it sends a PCMU pattern and counts what comes back.
type rtpPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  int
	seen map[byte]int
	stop chan struct{}
	wg   sync.WaitGroup
}

func newRTPPeer(t *testing.T) *rtpPeer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rtpPeer{conn: c, seen: map[byte]int{}, stop: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n > 12 {
				r.mu.Lock()
				r.got++
				r.seen[buf[12]]++
				r.mu.Unlock()
			}
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *rtpPeer) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

// send streams n packets of payload byte b with pt to dst at 20 ms.
func (r *rtpPeer) send(dst netip.AddrPort, pt byte, b byte, n int) {
	pkt := make([]byte, 12+160)
	ssrc := uint32(0x1234abcd)
	for i := 0; i < n; i++ {
		pkt[0], pkt[1] = 0x80, pt
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		ts := uint32(i * 160)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		for j := 12; j < len(pkt); j++ {
			pkt[j] = b
		}
		r.conn.WriteToUDPAddrPort(pkt, dst)
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rtpPeer) received() (int, map[byte]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[byte]int{}
	for k, v := range r.seen {
		m[k] = v
	}
	return r.got, m
}

func (r *rtpPeer) close() {
	select {
	case <-r.stop:
		return
	default:
	}
	close(r.stop)
	r.conn.Close()
	r.wg.Wait()
}

func itoa(n int) string { return strconv.Itoa(n) }

var _ = fmt.Sprintf
var _ = io.Discard

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
func nowFixed() time.Time          { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
