package sip

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// registerUDPContact registers user with a UDP contact on port (register_only.xml from its own
// SIPp, as a phone registering over UDP).
func registerUDPContact(t *testing.T, env *testEnv, user, port string) {
	t.Helper()
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", user, "-au", user, "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register "+user)
	waitFor(t, user+" registered", 10*time.Second, func() bool {
		cs := env.ep.Contacts("internal", user, "127.0.0.1")
		return len(cs) == 1 && strings.Contains(cs[0], ":"+port)
	})
}

// originateSecure calls user/1001 offering SRTP with every suite and hangs up once answered.
func originateSecure(t *testing.T, env *testEnv) *core.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, "{rtp_secure_media=true,sip_auth_username=1001,sip_auth_password=1234}user/1001@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	if b.Var("rtp_secure_media_confirmed") != "true" {
		t.Errorf("outbound leg not secure: %q", b.Var("rtp_secure_media_negotiated"))
	}
	return b
}

// TestBigInviteGoesOverTCP: the phone registered over UDP; an INVITE offering every SDES suite
// is over 1300 bytes, so goswitch sends it over TCP to the same host and port (RFC 3261
// §18.1.1), where SIPp listens: the UAS sees all suites, Via and Contact say TCP, and the ACK
// and BYE follow the dialog over TCP. (Before: sipgo refused the UDP write, goswitch cut the
// offer to one suite and sent it over UDP.)
func TestBigInviteGoesOverTCP(t *testing.T) {
	env := newEnv(t, envOpt{})
	port := itoa(freeUDPPort(t))
	uas := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_srtp_full.xml"), "-s", "1001", "-p", port, "-t", "t1",
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)))
	// uas_srtp_full.xml checks the offer's tags 1, 4 and 7 by suite name.
	if len(rtp.SRTPSuites) != 7 || suiteTag(t, "AEAD_AES_256_GCM") != 1 || suiteTag(t, "AES_CM_128_HMAC_SHA1_80") != 4 || suiteTag(t, "AES_CM_128_NULL_AUTH") != 7 {
		t.Fatal("suite list changed: update uas_srtp_full.xml")
	}
	registerUDPContact(t, env, "1001", port)
	b := originateSecure(t, env)
	if v := b.Var("sip_via_protocol"); v != "tcp" {
		t.Errorf("sip_via_protocol = %q, want tcp", v)
	}
	b.Hangup(core.CauseNormalClearing)
	uas.wait(t, "tcp uas")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestBigInviteFallsBackToUDP: nothing listens on TCP at the phone's port (connection
// refused): the INVITE goes over UDP with the compact offer and the call connects.
func TestBigInviteFallsBackToUDP(t *testing.T) {
	env := newEnv(t, envOpt{})
	port := itoa(freeUDPPort(t))
	uas := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_srtp_compact.xml"), "-s", "1001", "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)))
	registerUDPContact(t, env, "1001", port)
	b := originateSecure(t, env)
	if v := b.Var("sip_via_protocol"); v != "udp" {
		t.Errorf("sip_via_protocol = %q, want udp", v)
	}
	b.Hangup(core.CauseNormalClearing)
	uas.wait(t, "udp uas")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// suiteTag is the a=crypto tag of suite in goswitch's full offer (FreeSWITCH's order).
func suiteTag(t *testing.T, suite string) int {
	for i, s := range rtp.SRTPSuites {
		if s.Name == suite {
			return i + 1
		}
	}
	t.Fatalf("no suite %s", suite)
	return 0
}

// TestBigUDPResponse: a response over the 1,300 bytes sipgo allows a UDP request still goes out
// (sipgo's server transactions write responses without that check; IP fragments them, as sofia
// sends them): an OPTIONS that crossed twelve proxies gets its 200 with all twelve Vias back,
// about 2 KB. A guard against a sipgo upgrade that applies the request limit to responses.
func TestBigUDPResponse(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	var vias strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&vias, "Via: SIP/2.0/UDP proxy%d.carrier-with-a-long-name.example.net:5060;branch=z9hG4bK-proxy-%d-0123456789abcdef;received=192.0.2.%d\n", i, i, i+1)
	}
	u.send(u.request("OPTIONS", "sip:9196@"+env.addr(t, "internal").String(), "big-udp", 1, vias.String(), ""))
	res := u.recv(3 * time.Second)
	t.Logf("response: %d bytes, %d Vias", len(res), strings.Count(res, "Via:"))
	if !strings.HasPrefix(res, "SIP/2.0 200") || len(res) <= udpSizeLimit {
		t.Fatalf("OPTIONS through 12 proxies: %d bytes back, want a 200 over %d bytes: %.200q", len(res), udpSizeLimit, res)
	}
}
