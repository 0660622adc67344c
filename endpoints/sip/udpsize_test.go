package sip

import (
	"context"
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
