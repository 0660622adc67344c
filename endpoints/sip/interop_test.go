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
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_auth.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9196", "-key", "rtpport", itoa(peer.port()), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "2500", "-mi", "127.0.0.1")
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
