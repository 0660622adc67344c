package sip

import (
	"github.com/goswitch/goswitch/core"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSIPpRegister: SIPp registers 1000 with digest auth; goswitch fires sofia::register, lists
// the contact in sofia_contact and the sofia status output, then SIPp unregisters.
func TestSIPpRegister(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "sofia::register", "sofia::unregister")
	defer sub.Close()
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register.xml"), "-s", "1000", "-au", "1000", "-ap", "1234")
	waitFor(t, "registration", 10*time.Second, func() bool {
		return len(env.ep.Contacts("internal", "1000", "127.0.0.1")) == 1
	})
	out, _ := env.h.APIOutput(t.Context(), "sofia_contact", "1000@127.0.0.1")
	if !strings.HasPrefix(out, "sofia/internal/sip:1000@127.0.0.1:") {
		t.Errorf("sofia_contact = %q", out)
	}
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal reg")
	if !strings.Contains(st, "User:       \t1000@127.0.0.1") || !strings.Contains(st, "Registered(UDP)") {
		t.Errorf("sofia status profile internal reg:\n%s", st)
	}
	r.wait(t, "register")
	waitFor(t, "unregistration", 5*time.Second, func() bool {
		return len(env.ep.Contacts("internal", "1000", "127.0.0.1")) == 0
	})
	out, _ = env.h.APIOutput(t.Context(), "sofia_contact", "1000@127.0.0.1")
	if out != "error/user_not_registered" {
		t.Errorf("after unregister sofia_contact = %q", out)
	}
	var names []string
	timeout := time.After(2 * time.Second)
	for len(names) < 2 {
		select {
		case e := <-sub.C():
			names = append(names, e.Subclass)
			if e.Subclass == "sofia::register" {
				if e.Get("profile-name") != "internal" || e.Get("from-user") != "1000" || e.Get("status") != "Registered(UDP)" || e.Get("username") != "1000" {
					t.Errorf("register event headers: %+v", e.Headers)
				}
			}
		case <-timeout:
			t.Fatalf("events: %v", names)
		}
	}
	if names[0] != "sofia::register" || names[1] != "sofia::unregister" {
		t.Errorf("events %v", names)
	}
}

// TestSIPpEchoWithAuth: 1000 calls 9196 through the 407 challenge; RTP we send comes back.
func TestSIPpEchoWithAuth(t *testing.T) {
	env := newEnv(t, envOpt{})
	peer := newRTPPeer(t)
	r := callAs1000(t, env, "9196", peer.port(), 2500)
	var port string
	waitFor(t, "answered echo call", 10*time.Second, func() bool {
		s := findSession(env.h, func(s *core.Session) bool { return s.Answered() })
		if s == nil {
			return false
		}
		port = s.Var("local_media_port")
		if s.Var("sip_authorized") != "true" || s.Var("sip_h_X-Test") != "sipp" || s.Profile().Context != "default" {
			t.Errorf("vars: authorized=%q X-Test=%q context=%q", s.Var("sip_authorized"), s.Var("sip_h_X-Test"), s.Profile().Context)
		}
		return port != ""
	})
	dst := netip.MustParseAddrPort("127.0.0.1:" + port)
	peer.send(dst, 0, 0x55, 50)
	time.Sleep(200 * time.Millisecond)
	got, seen := peer.received()
	if seen[0x55] < 30 {
		t.Errorf("echo: got %d packets back, %d with our payload", got, seen[0x55])
	}
	r.wait(t, "uac")
}

// registerUAS starts a SIPp UAS (scen) with an RTP echo and registers it as user with a second
// SIPp (register_only.xml, Contact = the UAS port), waiting for the binding.
func registerUAS(t *testing.T, env *testEnv, scen, user, codec, codecName string, ringMS int) *sippRun {
	return registerUASn(t, env, scen, user, codec, codecName, ringMS, 1)
}

func registerUASn(t *testing.T, env *testEnv, scen, user, codec, codecName string, ringMS, want int) *sippRun {
	t.Helper()
	port := itoa(freeUDPPort(t))
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario(scen), "-s", user, "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)), "-rtp_echo", "-key", "codec", codec, "-key", "codecname", codecName,
		"-d", itoa(ringMS))
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", user, "-au", user, "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register "+user)
	waitFor(t, user+" registered", 10*time.Second, func() bool {
		return len(env.ep.Contacts("internal", user, "127.0.0.1")) == want
	})
	return r
}

// callAs1000 starts SIPp as user 1000 (answering the 407) calling dest with PCMU and
// telephone-event, its RTP at rtpPort, hanging up after holdMS.
func callAs1000(t *testing.T, env *testEnv, dest string, rtpPort, holdMS int) *sippRun {
	t.Helper()
	return startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_auth.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", dest, "-key", "rtpport", itoa(rtpPort), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", itoa(holdMS), "-mi", "127.0.0.1")
}

// waitBridged waits until the answered inbound call is bridged (and ok(caller, callee), if
// given, holds) and returns where the caller's RTP must go.
func waitBridged(t *testing.T, env *testEnv, ok func(caller, callee *core.Session) bool) netip.AddrPort {
	t.Helper()
	var port string
	waitFor(t, "bridged call", 10*time.Second, func() bool {
		a := answeredInbound(env)
		if a == nil || a.Peer() == nil || (ok != nil && !ok(a, a.Peer())) {
			return false
		}
		port = a.Var("local_media_port")
		return port != ""
	})
	return netip.MustParseAddrPort("127.0.0.1:" + port)
}

func answeredInbound(env *testEnv) *core.Session {
	return findSession(env.h, func(s *core.Session) bool { return s.Answered() && s.Direction() == core.Inbound })
}

// TestSIPpBridgeUserToUser: 1000 calls 1001 (a registered SIPp UAS with RTP echo); media flows
// both ways through goswitch; the B-leg got the sip_h_X-Bleg header; BYE from A ends both.
func TestSIPpBridgeUserToUser(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas.xml", "1001", "0", "PCMU", 300)
	peer := newRTPPeer(t)
	a := callAs1000(t, env, "1001", peer.port(), 2500)
	dst := waitBridged(t, env, nil)
	peer.send(dst, 0, 0x33, 50)
	time.Sleep(200 * time.Millisecond)
	if got, seen := peer.received(); seen[0x33] < 30 {
		t.Errorf("media through the bridge: got %d packets back, %d with our payload", got, seen[0x33])
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpBridgePCMUToPCMA: the caller speaks PCMU, the callee only PCMA: goswitch transcodes.
func TestSIPpBridgePCMUToPCMA(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas.xml", "1001", "8", "PCMA", 300)
	peer := newRTPPeer(t)
	a := callAs1000(t, env, "71001", peer.port(), 2500)
	dst := waitBridged(t, env, func(_, b *core.Session) bool { return b.Var("read_codec") == "PCMA" })
	// 0xFF is PCMU silence; through PCMA and back it stays within one step of it (0xFE/0x7E/0x7F).
	peer.send(dst, 0, 0xFF, 60)
	time.Sleep(300 * time.Millisecond)
	got, seen := peer.received()
	if got < 25 || seen[0xFF]+seen[0x7F]+seen[0xFE]+seen[0x7E] < 20 {
		t.Errorf("transcoded media: got %d packets back, payload histogram %v", got, seen)
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// TestSIPpCancelBeforeAnswer: the caller cancels while 1001 rings: the caller gets 487, the
// callee gets CANCEL.
func TestSIPpCancelBeforeAnswer(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_cancel.xml", "1001", "0", "PCMU", 0)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_cancel.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(freeUDPPort(t)), "-mi", "127.0.0.1")
	a.wait(t, "caller")
	b.wait(t, "callee")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpByeFromCallee: the callee hangs up; the caller gets BYE.
func TestSIPpByeFromCallee(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_bye.xml", "1001", "0", "PCMU", 100)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_recv_bye.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	b.wait(t, "callee")
	a.wait(t, "caller")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpGatewayProxyAuth: 1000 dials 81234 -> sofia/gateway/gw1/1234; the gateway (SIPp)
// challenges with 407 and gets the INVITE again with CSeq+1 and Proxy-Authorization (the seed
// trace), answers with a Record-Route, and the BYE follows the route set.
func TestSIPpGatewayProxyAuth(t *testing.T) {
	gwPort := freeUDPPort(t)
	env := newEnv(t, envOpt{gw: "127.0.0.1:" + itoa(gwPort)})
	gw := startSIPp(t, env.addr(t, "external"), "-sf", scenario("gw_auth.xml"), "-p", itoa(gwPort),
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)), "-rtp_echo")
	a := callAs1000(t, env, "81234", freeUDPPort(t), 1000)
	a.wait(t, "caller")
	gw.wait(t, "gateway")
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status gateway gw1")
	if !strings.Contains(st, "Name\tgw1") || !strings.Contains(st, "CallsOUT\t1") {
		t.Errorf("sofia status gateway gw1:\n%s", st)
	}
}

// TestSIPpHoldUnhold: re-INVITE sendonly is answered recvonly, then sendrecv again.
func TestSIPpHoldUnhold(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "CHANNEL_HOLD", "CHANNEL_UNHOLD")
	defer sub.Close()
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_hold.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9196", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "500", "-mi", "127.0.0.1")
	a.wait(t, "caller")
	var got []string
	deadline := time.After(2 * time.Second)
	for len(got) < 2 {
		select {
		case e := <-sub.C():
			got = append(got, e.Name)
		case <-deadline:
			t.Fatalf("hold events: %v", got)
		}
	}
	if got[0] != "CHANNEL_HOLD" || got[1] != "CHANNEL_UNHOLD" {
		t.Errorf("events %v", got)
	}
}

// TestSIPpReferBlindTransfer: a parked caller REFERs itself to 9196 and ends up in echo.
func TestSIPpReferBlindTransfer(t *testing.T) {
	env := newEnv(t, envOpt{})
	peer := newRTPPeer(t)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_refer.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9999", "-key", "refer_to", "9196", "-key", "rtpport", itoa(peer.port()), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "2000", "-mi", "127.0.0.1")
	var port string
	waitFor(t, "transfer to echo", 10*time.Second, func() bool {
		s := answeredInbound(env)
		if s == nil {
			return false
		}
		if app, _ := s.CurrentApp(); app != "echo" {
			return false
		}
		port = s.Var("local_media_port")
		return s.Var("sip_refer_to") != ""
	})
	peer.send(netip.MustParseAddrPort("127.0.0.1:"+port), 0, 0x44, 40)
	time.Sleep(200 * time.Millisecond)
	if _, seen := peer.received(); seen[0x44] < 20 {
		t.Errorf("echo after transfer: %v", seen)
	}
	a.wait(t, "caller")
}

// TestSIPpBusyPropagates: the callee answers 486 with Reason Q.850 17; the caller gets 486 too.
func TestSIPpBusyPropagates(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_busy.xml", "1001", "0", "PCMU", 0)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_busy.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(freeUDPPort(t)), "-mi", "127.0.0.1")
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// TestSIPpForkToTwoContacts: 1001 is registered twice; both ring, the one that answers wins and
// the other gets CANCEL.
func TestSIPpForkToTwoContacts(t *testing.T) {
	env := newEnv(t, envOpt{})
	loser := registerUASn(t, env, "uas_cancel.xml", "1001", "0", "PCMU", 0, 1)
	winner := registerUASn(t, env, "uas.xml", "1001", "0", "PCMU", 500, 2)
	a := callAs1000(t, env, "1001", freeUDPPort(t), 1000)
	a.wait(t, "caller")
	winner.wait(t, "answering contact")
	loser.wait(t, "cancelled contact")
}

// TestSIPpBridgeToTCPContact: 1001 registered over TCP with a TCP contact; 1000 (UDP) calls it
// and goswitch reaches the callee over TCP.
func TestSIPpBridgeToTCPContact(t *testing.T) {
	env := newEnv(t, envOpt{})
	port := itoa(freeUDPPort(t))
	b := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas.xml"), "-s", "1001", "-p", port, "-t", "t1",
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)), "-rtp_echo", "-key", "codec", "0", "-key", "codecname", "PCMU", "-d", "200")
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-t", "t1", "-key", "contact_port", port)
	reg.wait(t, "register over tcp")
	waitFor(t, "tcp binding", 5*time.Second, func() bool {
		cs := env.ep.Contacts("internal", "1001", "127.0.0.1")
		return len(cs) == 1 && strings.Contains(cs[0], ":"+port+";transport=tcp")
	})
	a := callAs1000(t, env, "1001", freeUDPPort(t), 800)
	a.wait(t, "caller")
	b.wait(t, "tcp callee")
}

// TestSIPpMetaKeyStaysOffTheBridge: the caller's channel has bind_meta_app, both legs do
// RFC 4733. The meta key (*) and the bound key (1) are the caller's own: the callee must not
// hear them; any other digit crosses. The callee (SIPp) echoes what reaches it, so what the
// caller gets back is what the callee heard.
func TestSIPpMetaKeyStaysOffTheBridge(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_te.xml", "1001", "0", "PCMU", 300)
	peer := newRTPPeer(t)
	a := callAs1000(t, env, "61001", peer.port(), 4000)
	dst := waitBridged(t, env, func(_, b *core.Session) bool { return b.Answered() })
	seq, ts := uint16(0), uint32(8000)
	for _, ev := range []byte{10, 1, 5} { // *, the bound key 1, then 5
		sendEvent(peer, dst, ev, &seq, ts)
		ts += 8000
		time.Sleep(150 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond)
	_, seen := peer.received()
	if seen[5] == 0 {
		t.Errorf("digit 5 never came back through the callee (payload histogram %v)", seen)
	}
	if seen[10] != 0 || seen[1] != 0 {
		t.Errorf("the callee heard the meta digits: * %d packets, 1 %d packets", seen[10], seen[1])
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// sendEvent sends one RFC 4733 digit (PT 101, 100 ms) as a real phone does: three updates,
// then the end packet three times, all with the event's timestamp.
func sendEvent(r *rtpPeer, dst netip.AddrPort, event byte, seq *uint16, ts uint32) {
	pkt := make([]byte, 16)
	for i := range 6 {
		dur := uint16(min(i+1, 4) * 200)
		pkt[0], pkt[1] = 0x80, 101
		if i == 0 {
			pkt[1] |= 0x80 // marker: start of the event
		}
		pkt[2], pkt[3] = byte(*seq>>8), byte(*seq)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = 0x12, 0x34, 0xab, 0xcd
		pkt[12], pkt[13] = event, 10
		if i >= 3 {
			pkt[13] |= 0x80 // end
		}
		pkt[14], pkt[15] = byte(dur>>8), byte(dur)
		r.conn.WriteToUDPAddrPort(pkt, dst)
		*seq++
		time.Sleep(20 * time.Millisecond)
	}
}
