package sip

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/internal/peer"
)

// trunk stands in for a SIP carrier behind gateway gw1: it only records the requests it gets.
type trunk struct {
	conn *net.UDPConn
	mu   sync.Mutex
	reqs []string
	wg   sync.WaitGroup
}

func newTrunk(t *testing.T) *trunk {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &trunk{conn: c}
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		buf := make([]byte, 8192)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			tr.mu.Lock()
			tr.reqs = append(tr.reqs, line)
			tr.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); tr.wg.Wait() })
	return tr
}

func (tr *trunk) addr() string { return tr.conn.LocalAddr().String() }

func (tr *trunk) invites() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, l := range tr.reqs {
		if strings.HasPrefix(l, "INVITE ") {
			out = append(out, l)
		}
	}
	return out
}

// TestSIPpReferToGatewayRefused is issue 10's toll-fraud attack: an unauthenticated caller on the
// external profile reaches extension 1001 through public's transfer to default, then REFERs the
// call to the gateway prefix (8 + number), to 9196 (a destination of default) and, attended, with
// Replaces. Every REFER gets 403 and the trunk behind gw1 never sees an INVITE. Before the fix the
// first REFER got 202 and the callee's leg dialled the trunk with gw1's credentials.
func TestSIPpReferToGatewayRefused(t *testing.T) {
	tr := newTrunk(t)
	env := newEnv(t, envOpt{gw: tr.addr()})
	b := registerUAS(t, env, "uas.xml", "1001", "0", "PCMU", 200)
	a := startSIPp(t, env.addr(t, "external"), "-sf", scenario("uac_refer_attack.xml"), "-s", "attacker",
		"-key", "dest", "pub1001", "-key", "refer_to", "819005551234", "-key", "refer_to2", "9196",
		"-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	a.wait(t, "attacker")
	b.wait(t, "callee 1001")
	// The trunk would have had the INVITE within milliseconds of the 202; give a stray one time.
	time.Sleep(300 * time.Millisecond)
	if inv := tr.invites(); len(inv) != 0 {
		t.Errorf("the trunk got INVITEs from an unauthenticated REFER: %q", inv)
	}
	logs := env.logs.String()
	if !strings.Contains(logs, "REFER refused: the referrer did not authenticate") || !strings.Contains(logs, "refer_to=819005551234") {
		t.Errorf("no WARNING for the refused REFER")
	}
}

// TestSIPpReferBetweenExtensions: REFER from an authenticated extension keeps working. 1000 calls
// 1001 and REFERs the bridged 1001 to 1003: 202, the NOTIFY, and 1003 (a registered SIPp UAS that
// hangs up itself) is called.
func TestSIPpReferBetweenExtensions(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas.xml", "1001", "0", "PCMU", 200)
	c := registerUAS(t, env, "uas_bye.xml", "1003", "0", "PCMU", 200)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_refer_peer.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "refer_to", "1003", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0",
		"-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	a.wait(t, "referrer 1000")
	c.wait(t, "transfer target 1003")
	b.wait(t, "transferee 1001")
}

// TestReferContext is the routing rule of a REFER: the referrer's authority at dialog start, not
// the context a dialplan transfer moved the call to.
func TestReferContext(t *testing.T) {
	env := newEnv(t, envOpt{})
	mk := func(vars ...[2]string) *core.Session {
		s := core.NewSession(env.h, core.SessionOptions{Direction: core.Inbound, Name: "test",
			Profile: &core.CallerProfile{Context: "default", DestNumber: "1001"}, Vars: vars})
		return s
	}
	tests := []struct {
		name        string
		auth        authority
		requireAuth bool
		self, peer  [][2]string
		ctx         string
		ok          bool
	}{
		{"authenticated keeps the target's context", authority{true, "default"}, true, nil, nil, "", true},
		{"authenticated, force_transfer_context", authority{true, "default"}, true, nil, [][2]string{{"force_transfer_context", "xfer"}}, "xfer", true},
		{"unauthenticated refused", authority{false, "public"}, true, nil, nil, "", false},
		{"unauthenticated refused even with force_transfer_context", authority{false, "public"}, true, [][2]string{{"force_transfer_context", "xfer"}}, nil, "", false},
		{"unauthenticated, auth not required: entry context", authority{false, "public"}, false, nil, nil, "public", true},
		{"unauthenticated, force_transfer_context", authority{false, "public"}, false, [][2]string{{"force_transfer_context", "xfer"}}, nil, "xfer", true},
		{"unauthenticated, transfer_context on the target", authority{false, "public"}, false, nil, [][2]string{{"transfer_context", "tc"}}, "tc", true},
	}
	p, _ := env.ep.Profile("external")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := p.cfg
			cfg.ReferRequiresAuth = tt.requireAuth
			pp := &Profile{cfg: cfg}
			c := &call{s: mk(tt.self...), auth: tt.auth}
			ctx, ok := pp.referContext(c, mk(tt.peer...))
			if ctx != tt.ctx || ok != tt.ok {
				t.Errorf("referContext = %q, %v; want %q, %v", ctx, ok, tt.ctx, tt.ok)
			}
		})
	}
}

func TestLocalSourceAndWeakSecret(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.9": true, "192.168.1.1": true,
		"fd00::5": true, "169.254.1.1": true, "fe80::1": true, "100.64.0.1": true, "100.127.255.254": true,
		"::ffff:192.168.0.1": true, "192.0.2.7": false, "198.51.100.2": false, "203.0.113.9": false,
		"8.8.8.8": false, "100.128.0.1": false, "2001:db8::1": false,
	} {
		if got := LocalSource(netip.MustParseAddr(a)); got != want {
			t.Errorf("LocalSource(%s) = %v", a, got)
		}
	}
	env := newEnv(t, envOpt{})
	dir := env.h.Config().Directory()
	for id, want := range map[string]string{"1000": "default password 1234", "1002": "a1-hash of the default password 1234", "gwuser": ""} {
		if got := WeakSecret(dir.User(id, "127.0.0.1"), id, "127.0.0.1"); got != want {
			t.Errorf("WeakSecret(%s) = %q, want %q", id, got, want)
		}
	}
}

// netns is a network namespace joined to the root one by a veth pair with TEST-NET-3 addresses
// (203.0.113.0/24, documentation space: neither loopback nor private), so a client inside it is a
// real non-local source for goswitch listening on the root side.
type netns struct {
	name, host, guest string
}

var nsSeq sync.Mutex
var nsNext int

func newNetns(t *testing.T) *netns {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		peer.Missing(t, "network namespace: "+format, args...)
	}
	if os.Geteuid() != 0 {
		fail("needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fail("ip (iproute2) not installed")
	}
	nsSeq.Lock()
	nsNext++
	n := nsNext
	nsSeq.Unlock()
	id := (os.Getpid()*7 + n) % 60
	ns := &netns{name: fmt.Sprintf("gsw%d-%d", os.Getpid(), n)}
	va, vb := fmt.Sprintf("gswa%d", os.Getpid()%100000*10+n%10), fmt.Sprintf("gswb%d", os.Getpid()%100000*10+n%10)
	ns.host, ns.guest = fmt.Sprintf("203.0.113.%d", id*4+1), fmt.Sprintf("203.0.113.%d", id*4+2)
	run := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := run("netns", "add", ns.name); err != nil {
		fail("%v", err)
	}
	t.Cleanup(func() {
		_ = run("link", "del", va)
		_ = run("netns", "del", ns.name)
	})
	for _, args := range [][]string{
		{"link", "add", va, "type", "veth", "peer", "name", vb},
		{"link", "set", vb, "netns", ns.name},
		{"addr", "add", ns.host + "/30", "dev", va},
		{"link", "set", va, "up"},
		{"-n", ns.name, "addr", "add", ns.guest + "/30", "dev", vb},
		{"-n", ns.name, "link", "set", vb, "up"},
		{"-n", ns.name, "link", "set", "lo", "up"},
	} {
		if err := run(args...); err != nil {
			fail("%v", err)
		}
	}
	// The address is usable once DAD-free IPv4 has it; wait until a bind succeeds.
	waitFor(t, "veth address", 5*time.Second, func() bool {
		c, err := net.ListenPacket("udp", ns.host+":0")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return ns
}

// sippIn runs SIPp inside the namespace against target and returns its exit error and output.
func (ns *netns) sipp(t *testing.T, target string, args ...string) (string, error) {
	t.Helper()
	bin := sippPath(t)
	dir := t.TempDir()
	full := append([]string{"netns", "exec", ns.name, bin, target, "-i", ns.guest, "-p", itoa(freeUDPPort(t)), "-m", "1",
		"-timeout", "15s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file", filepath.Join(dir, "msg.log")}, args...)
	cmd := exec.Command("ip", full...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	msgs, _ := os.ReadFile(filepath.Join(dir, "msg.log"))
	return string(out) + "\n" + tail(string(msgs), 4000), err
}

// TestDefaultPasswordFromPublicSourceRefused: goswitch listens on the root side of a veth pair;
// SIPp registers from inside the namespace, a TEST-NET (public) source. 1000 with the right
// password 1234 and 1002 with an a1-hash of 1234 get 403, the same answer as a wrong password,
// a call from 1000 authenticated with 1234 gets 403 too, and a WARNING names source, user and
// reason; gwuser with a real password registers from there.
// From loopback, 1000 with 1234 still registers.
func TestDefaultPasswordFromPublicSourceRefused(t *testing.T) {
	ns := newNetns(t)
	env := newEnv(t, envOpt{internalExtra: `<param name="sip-ip" value="` + ns.host + `"/>` +
		`<param name="force-register-domain" value="127.0.0.1"/><param name="challenge-realm" value="127.0.0.1"/>`})
	target := env.addr(t, "internal").String()
	if !strings.HasPrefix(target, ns.host+":") {
		t.Fatalf("internal profile on %s, want %s", target, ns.host)
	}
	for _, tc := range []struct{ user, pass string }{{"1000", "1234"}, {"1002", "1234"}, {"1000", "wrong"}} {
		if out, err := ns.sipp(t, target, "-sf", scenario("register_refused.xml"), "-s", tc.user, "-au", tc.user, "-ap", tc.pass); err != nil {
			t.Errorf("%s/%s from %s: want 403: %v\n%s", tc.user, tc.pass, ns.guest, err, out)
		}
	}
	// A call authenticated with 1234 from there is refused the same way.
	if out, err := ns.sipp(t, target, "-sf", scenario("uac_auth_refused.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9196", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU"); err != nil {
		t.Errorf("INVITE as 1000/1234 from %s: want 403: %v\n%s", ns.guest, err, out)
	}
	if n := len(env.ep.Contacts("internal", "1000", "127.0.0.1")) + len(env.ep.Contacts("internal", "1002", "127.0.0.1")); n != 0 {
		t.Errorf("%d registrations with the default password from a public source", n)
	}
	logs := env.logs.String()
	for _, want := range []string{
		`ip=` + ns.guest + ` user=1000 method=REGISTER reason="default password 1234 is accepted only from loopback and private addresses"`,
		`ip=` + ns.guest + ` user=1002 method=REGISTER reason="a1-hash of the default password 1234`,
		`ip=` + ns.guest + ` user=1000 method=INVITE reason="default password 1234`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if out, err := ns.sipp(t, target, "-sf", scenario("register.xml"), "-s", "gwuser", "-au", "gwuser", "-ap", "gwpass"); err != nil {
		t.Errorf("gwuser (real password) from %s: %v\n%s", ns.guest, err, out)
	}

	local := newEnv(t, envOpt{})
	r := startSIPp(t, local.addr(t, "internal"), "-sf", scenario("register.xml"), "-s", "1000", "-au", "1000", "-ap", "1234")
	r.wait(t, "1000/1234 from loopback")
}

// TestSIPpMetaAppListensOnTheBoundLeg: bind_meta_app "1 b s ..." (vanilla's in-call transfer keys
// for the called phone) hears only the B-leg's far end. The caller's *1 does not fire it (before,
// any caller, unauthenticated ones from public included, could run dx/att_xfer/cf and transfer in
// default); the callee's *1 does. The callee is a SIPp UAS that echoes RTP, events included, so the
// caller's digits reach goswitch again from the B side.
func TestSIPpMetaAppListensOnTheBoundLeg(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_te.xml", "1001", "0", "PCMU", 300)
	rp := newRTPPeer(t)
	a := callAs1000(t, env, "metab1001", rp.port(), 3000)
	var callee *core.Session
	dst := waitBridged(t, env, func(_, bl *core.Session) bool { callee = bl; return bl.Answered() })
	caller := answeredInbound(env)
	seq, ts := uint16(0), uint32(8000)
	for _, ev := range []byte{10, 1} { // *, 1
		sendEvent(rp, dst, ev, &seq, ts)
		ts += 8000
		time.Sleep(150 * time.Millisecond)
	}
	waitFor(t, "the callee's *1 (echoed) to fire the b-leg binding", 5*time.Second, func() bool {
		return callee.Var("meta_fired") == "yes"
	})
	if caller.Var("meta_fired") != "" {
		t.Errorf("the caller's own *1 fired a binding that listens on the b leg")
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// TestSIPpCalleeTransfersPublicCaller: whose authority counts is the REFER sender's. An
// unauthenticated caller from public reaches 1001 (via public's transfer to default); 1001, a
// registered phone, REFERs the caller to 1003: 202, and 1003 is called, although the transferee
// itself could not have asked for that.
func TestSIPpCalleeTransfersPublicCaller(t *testing.T) {
	env := newEnv(t, envOpt{})
	c := registerUAS(t, env, "uas_bye.xml", "1003", "0", "PCMU", 200)
	port := itoa(freeUDPPort(t))
	b := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_refer.xml"), "-s", "1001", "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)), "-rtp_echo", "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-key", "refer_to", "1003", "-d", "200")
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register 1001")
	waitFor(t, "1001 registered", 10*time.Second, func() bool { return len(env.ep.Contacts("internal", "1001", "127.0.0.1")) == 1 })
	a := startSIPp(t, env.addr(t, "external"), "-sf", scenario("uac_recv_bye.xml"), "-s", "outsider",
		"-key", "dest", "pub1001", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-mi", "127.0.0.1")
	c.wait(t, "transfer target 1003")
	a.wait(t, "public caller")
	b.wait(t, "referring callee 1001")
}
