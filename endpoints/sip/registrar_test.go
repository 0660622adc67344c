package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// TestRegistrationSurvivesRestart: a binding made by SIPp is still there after the host restarts
// on the same database directory.
func TestRegistrationSurvivesRestart(t *testing.T) {
	db := t.TempDir()
	env := newEnv(t, envOpt{dbDir: db})
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", "5099")
	r.wait(t, "register")
	waitFor(t, "binding", 5*time.Second, func() bool { return len(env.ep.Contacts("", "1001", "127.0.0.1")) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	env.h.Stop(ctx, core.CauseSystemShutdown)
	cancel()
	env2 := newEnv(t, envOpt{dbDir: db})
	cs := env2.ep.Contacts("*", "1001", "127.0.0.1")
	if len(cs) != 1 || !strings.Contains(cs[0], "sip:1001@127.0.0.1:5099") {
		t.Errorf("after restart: %v", cs)
	}
	regs := env2.ep.Registrations()
	if len(regs) != 1 || regs[0].AuthUser != "1001" || regs[0].Transport != "UDP" {
		t.Errorf("registrations: %+v", regs)
	}
}

// TestRegisterA1HashAndTCP: user 1002 has only an a1-hash; SIPp registers it over TCP.
func TestRegisterA1HashAndTCP(t *testing.T) {
	env := newEnv(t, envOpt{})
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register.xml"), "-s", "1002", "-au", "1002", "-ap", "1234", "-t", "t1")
	waitFor(t, "tcp binding", 10*time.Second, func() bool {
		cs := env.ep.Contacts("internal", "1002", "127.0.0.1")
		return len(cs) == 1 && strings.Contains(cs[0], "transport=tcp")
	})
	r.wait(t, "register over tcp")
}

// TestWrongPasswordAndNonceReplay: a wrong password gets 403 and fires register_failure.
func TestWrongPassword(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "sofia::register_failure")
	defer sub.Close()
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "wrong",
		"-key", "contact_port", "5099")
	select {
	case err := <-r.done:
		r.finished = true
		if err == nil {
			t.Error("registration with a wrong password succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sipp hung")
	}
	select {
	case e := <-sub.C():
		if e.Get("to-user") != "1001" {
			t.Errorf("failure event: %+v", e.Headers)
		}
	case <-time.After(2 * time.Second):
		t.Error("no sofia::register_failure")
	}
	if len(env.ep.Contacts("", "1001", "127.0.0.1")) != 0 {
		t.Error("binding created with a wrong password")
	}
}

// TestGatewayRegistersAndPings: gateway gw1 on the external profile registers to our own
// internal profile as gwuser and pings it with OPTIONS; sofia status shows it.
func TestGatewayRegistersAndPings(t *testing.T) {
	env := newEnv(t, envOpt{gwRegister: true, gw: "127.0.0.1:1"})
	// The gateway's proxy must be the internal profile: restart it with the real address.
	g, _ := env.ep.Gateway("gw1")
	g.stop()
	g.cfg.Proxy = env.addr(t, "internal").String()
	g.cfg.RegisterProxy = g.cfg.Proxy
	g.start()
	waitFor(t, "gateway registered", 10*time.Second, func() bool {
		return g.State() == "REGED" && len(env.ep.Contacts("internal", "gwuser", "127.0.0.1")) == 1
	})
	waitFor(t, "ping", 5*time.Second, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pingTime > 0 && g.status == "UP"
	})
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status")
	if !strings.Contains(st, "external::gw1\tgateway") || !strings.Contains(st, "REGED") || !strings.Contains(st, "2 profiles 0 aliases") {
		t.Errorf("sofia status:\n%s", st)
	}
	gs, _ := env.h.APIOutput(t.Context(), "sofia", "status gateway gw1")
	if !strings.Contains(gs, "State\tREGED") || !strings.Contains(gs, "Status\tUP") {
		t.Errorf("sofia status gateway:\n%s", gs)
	}
}

// TestInboundACLAndTLS: apply-inbound-acl=loopback.auto lets a local caller in without a
// challenge; tls=true generates a self-signed certificate and answers OPTIONS over TLS.
func TestInboundACLAndTLS(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: `<param name="apply-inbound-acl" value="loopback.auto"/><param name="tls" value="true"/>`})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
	u.send(u.request("INVITE", target, "acl1", 1, "", sdp))
	res := u.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("ACL-authorised INVITE: %q", res)
	}
	bye := u.request("BYE", target, "acl1", 2, "", "")
	bye = strings.Replace(bye, "To: <"+target+">", "To: "+header(res, "To"), 1)
	ack := u.request("ACK", target, "acl1", 1, "", "")
	ack = strings.Replace(strings.Replace(ack, "To: <"+target+">", "To: "+header(res, "To"), 1), "branch=z9hG4bKacl11", "branch=z9hG4bKacl1a", 1)
	u.send(ack)
	waitFor(t, "answered", 3*time.Second, func() bool { return answeredInbound(env) != nil })
	if s := answeredInbound(env); s.Var("sip_acl_authed_by") != "loopback.auto" || s.Var("sip_authorized") != "true" {
		t.Errorf("acl vars missing: %q", s.Var("sip_acl_authed_by"))
	}
	u.send(bye)
	u.recv(2 * time.Second)

	if _, err := os.Stat(filepath.Join(env.dir, "certs", "agent.pem")); err != nil {
		t.Fatalf("no self-signed certificate: %v", err)
	}
	p, _ := env.ep.Profile("internal")
	conn, err := tls.Dial("tcp", p.TLSAddr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bKtls1\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: tls1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", p.TLSAddr(), p.TLSAddr())
	conn.Write([]byte(msg))
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Errorf("OPTIONS over TLS: %q", buf[:n])
	}
	st, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal")
	if !strings.Contains(st, "TLS-URL") || !strings.Contains(st, ";transport=tls") || !strings.Contains(st, "CALLS-IN         \t1") {
		t.Errorf("sofia status profile internal:\n%s", st)
	}
}

// TestGatewayDownRefusesCalls: failed OPTIONS pings mark a gateway DOWN (sofia::gateway_state)
// and calls through it fail with GATEWAY_DOWN; a successful ping brings it back UP.
func TestGatewayDownRefusesCalls(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "sofia::gateway_state")
	defer sub.Close()
	g, _ := env.ep.Gateway("gw1")
	g.cfg.Proxy = "127.0.0.1:" + itoa(freeUDPPort(t)) // nobody answers there
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	g.ping(ctx)
	cancel()
	if g.Status() != "DOWN" {
		t.Fatalf("status %s after a failed ping", g.Status())
	}
	select {
	case e := <-sub.C():
		if e.Get("Gateway") != "gw1" || e.Get("Ping-Status") != "DOWN" {
			t.Errorf("event %+v", e.Headers)
		}
	case <-time.After(time.Second):
		t.Error("no sofia::gateway_state")
	}
	octx, ocancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer ocancel()
	_, err := env.h.Originate(octx, "sofia/gateway/gw1/1234", core.OriginateOptions{})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseGatewayDown {
		t.Errorf("originate through a down gateway: %v", err)
	}
	g.cfg.Proxy = env.addr(t, "internal").String()
	g.ping(t.Context())
	if g.Status() != "UP" {
		t.Errorf("status %s after a good ping", g.Status())
	}
}

// TestRegistrationExpiry: a binding whose time is up disappears and fires sofia::expire.
func TestRegistrationExpiry(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "sofia::expire")
	defer sub.Close()
	env.ep.regs.upsert(&Registration{CallID: "c1", User: "1003", Host: "127.0.0.1", Profile: "internal",
		Contact: "<sip:1003@127.0.0.1:5099>", ContactURI: "sip:1003@127.0.0.1:5099", Expires: time.Now().Add(time.Second),
		NetworkIP: "127.0.0.1", NetworkPort: 5099, Transport: "UDP", AuthUser: "1003", Realm: "127.0.0.1"})
	if len(env.ep.Contacts("internal", "1003", "127.0.0.1")) != 1 {
		t.Fatal("binding missing")
	}
	select {
	case e := <-sub.C():
		if e.Get("from-user") != "1003" || e.Get("profile-name") != "internal" {
			t.Errorf("expire event %+v", e.Headers)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("no sofia::expire")
	}
	if n := len(env.ep.Contacts("internal", "1003", "127.0.0.1")); n != 0 {
		t.Errorf("%d bindings after expiry", n)
	}
	if err := env.ep.db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int
	env.ep.db.SQL().QueryRow(`SELECT count(*) FROM sip_registrations WHERE sip_user = '1003'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows left in sqlite", n)
	}
}
