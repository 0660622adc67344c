package sip

import (
	"context"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback" // tone_stream:// early media

	"github.com/goswitch/goswitch/core"
)

// rfcExtras turns on 100rel and short session timers on the internal profile (Min-SE 2 s:
// below RFC 4028's 90 so that a refresh shows in seconds) and adds an early-media extension.
var rfcExtras = envOpt{
	internalExtra: `<param name="enable-100rel" value="true"/><param name="session-timeout" value="4"/>` +
		`<param name="minimum-session-expires" value="2"/>`,
	defaultExtra: `<extension name="early"><condition field="destination_number" expression="^7100$">` +
		`<action application="pre_answer"/><action application="playback" data="tone_stream://%(300,0,440)"/>` +
		`<action application="answer"/><action application="echo"/></condition></extension>`,
}

func uacScenario(t *testing.T, env *testEnv, scen, dest string, holdMS int, keys ...string) *sippRun {
	t.Helper()
	args := []string{"-sf", scenario(scen), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", dest, "-key", "rtpport", itoa(freeUDPPort(t)), "-d", itoa(holdMS), "-mi", "127.0.0.1"}
	for i := 0; i+1 < len(keys); i += 2 {
		args = append(args, "-key", keys[i], keys[i+1])
	}
	return startSIPp(t, env.addr(t, "internal"), args...)
}

// TestSIPpReliable183: a SIPp caller with Supported: 100rel calls an early-media extension
// (pre_answer, playback): the 183 with SDP comes reliably (Require: 100rel, RSeq), SIPp PRACKs
// it with RAck and gets 200 for the PRACK, then the call is answered. (Before: an unreliable
// 183, and PRACK answered 481.)
func TestSIPpReliable183(t *testing.T) {
	env := newEnv(t, rfcExtras)
	a := uacScenario(t, env, "uac_100rel.xml", "7100", 300)
	a.wait(t, "100rel caller")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpPrackForReliable18x: goswitch's outbound leg (Supported: 100rel with enable-100rel)
// gets a reliable 183 from a SIPp UAS and PRACKs it with RAck "1 <CSeq> INVITE"; the UAS then
// answers. (Before: no PRACK, and SIPp never answers.)
func TestSIPpPrackForReliable18x(t *testing.T) {
	env := newEnv(t, rfcExtras)
	port := itoa(freeUDPPort(t))
	uas := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_100rel.xml"), "-s", "1001", "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)))
	registerUDPContact(t, env, "1001", port)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, "user/1001@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	if b.Var("sip_prack_sent") != "true" {
		t.Errorf("no PRACK recorded on the leg")
	}
	b.Hangup(core.CauseNormalClearing)
	uas.wait(t, "100rel uas")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpSessionTimerRefresh: the caller asks goswitch to refresh (Session-Expires 4;
// refresher=uas): the 200 confirms it and goswitch sends UPDATE refreshes every 2 s, which SIPp
// sees twice. (Before: the 200 said refresher=uac and goswitch never refreshed.)
func TestSIPpSessionTimerRefresh(t *testing.T) {
	env := newEnv(t, rfcExtras)
	a := uacScenario(t, env, "uac_timer.xml", "9196", 0, "se", "4")
	a.wait(t, "session timer caller")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpSessionIntervalTooSmall: a Session-Expires below minimum-session-expires gets 422
// with Min-SE.
func TestSIPpSessionIntervalTooSmall(t *testing.T) {
	env := newEnv(t, rfcExtras)
	a := uacScenario(t, env, "uac_422.xml", "9196", 0, "se", "1")
	a.wait(t, "422 caller")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpSessionTimerLapses: the caller is the refresher (Session-Expires 3;refresher=uac)
// and never refreshes: goswitch sends BYE when the interval lapses.
func TestSIPpSessionTimerLapses(t *testing.T) {
	env := newEnv(t, rfcExtras)
	a := uacScenario(t, env, "uac_timer_expire.xml", "9196", 0, "se", "3")
	a.wait(t, "lapsing caller")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpOutboundSessionRefresh: the called phone answers with Session-Expires 4;
// refresher=uac: goswitch's outbound leg refreshes with an UPDATE carrying Session-Expires
// (the phone allows UPDATE) within the half interval. (Before: a re-INVITE without
// Session-Expires.)
func TestSIPpOutboundSessionRefresh(t *testing.T) {
	env := newEnv(t, rfcExtras)
	port := itoa(freeUDPPort(t))
	uas := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_timer.xml"), "-s", "1001", "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)), "-key", "se", "4")
	registerUDPContact(t, env, "1001", port)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, "user/1001@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	waitFor(t, "a refresh", 6*time.Second, func() bool { return b.Var("sip_session_refreshes") != "" })
	b.Hangup(core.CauseNormalClearing)
	uas.wait(t, "refreshed uas")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpOutbound422Retried: the called phone refuses the INVITE with 422 and Min-SE 1800;
// goswitch sends it again with Session-Expires and Min-SE 1800 and the call connects (RFC 4028
// 7.4, as sofia-sip does). (Before: the leg failed with 422.)
func TestSIPpOutbound422Retried(t *testing.T) {
	env := newEnv(t, rfcExtras)
	port := itoa(freeUDPPort(t))
	uas := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_422.xml"), "-s", "1001", "-p", port,
		"-mi", "127.0.0.1", "-mp", itoa(freeUDPPort(t)))
	registerUDPContact(t, env, "1001", port)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, "user/1001@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatalf("originate after 422: %v", err)
	}
	if !b.Answered() {
		t.Error("leg not answered after the 422 retry")
	}
	b.Hangup(core.CauseNormalClearing)
	uas.wait(t, "422 uas")
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpLateOfferAnsweredInPrack: a caller without SDP gets goswitch's offer in the reliable 183
// and answers in the PRACK (RFC 3262 §5): the early media reaches the port of that answer.
// (Before: the PRACK's SDP was ignored and no media was sent.)
func TestSIPpLateOfferAnsweredInPrack(t *testing.T) {
	env := newEnv(t, rfcExtras)
	peer := newRTPPeer(t)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_100rel_late.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "7100", "-key", "rtpport", itoa(peer.port()), "-d", "300", "-mi", "127.0.0.1")
	a.wait(t, "late-offer 100rel caller")
	if got, _ := peer.received(); got < 10 {
		t.Errorf("%d RTP packets reached the port the PRACK answered with, want the early media (15)", got)
	}
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
