package sip

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// bowoutExt routes lbNNNN, lbkeepNNNN and lbexecNNNN to loopback/NNNN, whose B half runs the
// "users" extension (bridge user/NNNN): the pair sits between two SIP phones. lbchainNNNN puts two
// pairs in a row; lbkeepbNNNN has the B half veto the bowout from its own dialplan.
const bowoutExt = `
    <extension name="lb"><condition field="destination_number" expression="^lb(10[0-9][0-9])$">
      <action application="bridge" data="loopback/$1"/></condition></extension>
    <extension name="lbkeep"><condition field="destination_number" expression="^lbkeep(10[0-9][0-9])$">
      <action application="bridge" data="{loopback_bowout=false}loopback/$1"/></condition></extension>
    <extension name="lbexec"><condition field="destination_number" expression="^lbexec(10[0-9][0-9])$">
      <action application="bridge" data="{loopback_bowout_on_execute=true}loopback/$1"/></condition></extension>
    <extension name="lbchain"><condition field="destination_number" expression="^lbchain(10[0-9][0-9])$">
      <action application="bridge" data="loopback/lb$1"/></condition></extension>
    <extension name="lbkeepb"><condition field="destination_number" expression="^lbkeepb(10[0-9][0-9])$">
      <action application="bridge" data="loopback/keep$1"/></condition></extension>
    <extension name="keep"><condition field="destination_number" expression="^keep(10[0-9][0-9])$">
      <action application="set" data="loopback_bowout=false"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>`

// loopbackCall has SIPp phone 1000 dial dest (which goes through a loopback pair to 1001, a SIPp
// UAS whose media is pb) with its media on pa. It returns both phones and, once 1000's channel is
// bridged, that channel and the outbound leg to 1001.
func loopbackCall(t *testing.T, env *testEnv, dest string, pa, pb *rtpPeer) (a, b *sippRun, legA, legB *core.Session) {
	t.Helper()
	b = registerMediaUAS(t, env, "1001", pb)
	a = startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_recv_bye.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", dest, "-key", "rtpport", itoa(pa.port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	waitFor(t, "1000 bridged", 10*time.Second, func() bool {
		legA = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Var("sip_from_user") == "1000" && s.Peer() != nil
		})
		legB = outboundTo(env, "1001")
		return legA != nil && legB != nil
	})
	return a, b, legA, legB
}

// rtpBothWays streams a pattern from each phone to its channel (payload byte fromA from 1000,
// 0x32 from 1001) and waits until each phone has received the other's, 1000's as byte wantB.
func rtpBothWays(t *testing.T, pa, pb *rtpPeer, legA, legB *core.Session, fromA, wantB byte) {
	t.Helper()
	portOf := func(s *core.Session) netip.AddrPort {
		return netip.MustParseAddrPort("127.0.0.1:" + s.Var("local_media_port"))
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pa.send(portOf(legA), 0, fromA, 50) }()
	go func() { defer wg.Done(); pb.send(portOf(legB), 0, 0x32, 50) }()
	wg.Wait()
	waitFor(t, "RTP both ways between 1000 and 1001", 3*time.Second, func() bool {
		_, gotA := pa.received()
		_, gotB := pb.received()
		return gotA[0x32] >= 30 && gotB[wantB] >= 30
	})
}

func chanName(s *core.Session) string {
	if s == nil {
		return "nothing"
	}
	return s.Name()
}

func loopbackSessions(h *core.Host) int {
	n := 0
	for _, s := range h.Sessions() {
		if strings.HasPrefix(s.Name(), "loopback/") {
			n++
		}
	}
	return n
}

// hangupEvents collects CHANNEL_HANGUP_COMPLETE by channel name until the channels named end.
func hangupEvents(t *testing.T, sub *event.Subscription, names ...string) map[string]*event.Event {
	t.Helper()
	got := map[string]*event.Event{}
	deadline := time.After(10 * time.Second)
	for {
		missing := false
		for _, n := range names {
			if got[n] == nil {
				missing = true
			}
		}
		if !missing {
			return got
		}
		select {
		case e := <-sub.C():
			got[e.Get("Channel-Name")] = e
		case <-deadline:
			t.Fatalf("hangup events: got %d of %v", len(got), names)
		}
	}
}

// TestSIPpLoopbackBowout: 1000 dials lb1001 → bridge loopback/1001 → the B half bridges
// user/1001. Once both halves are bridged the pair leaves: 1000's channel is bridged straight to
// the leg to 1001 (relayed RTP both ways), the two loopback channels hang up NORMAL_CLEARING
// with loopback_hangup_cause=bridge, and the phones are left alone until 1001's leg ends.
func TestSIPpLoopbackBowout(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: bowoutExt})
	sub := subscribe(env.h, event.ChannelHangupComplete)
	defer sub.Close()
	pa, pb := newRTPPeer(t), newRTPPeer(t)
	a, b, _, _ := loopbackCall(t, env, "lb1001", pa, pb)
	var legA, legB *core.Session
	waitFor(t, "1000 bridged straight to 1001", 10*time.Second, func() bool {
		legA = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Var("sip_from_user") == "1000"
		})
		legB = outboundTo(env, "1001")
		return legA != nil && legB != nil && legA.Peer() == legB && loopbackSessions(env.h) == 0
	})
	ev := hangupEvents(t, sub, "loopback/1001-a", "loopback/1001-b")
	for name, e := range ev {
		if c := e.Get("Hangup-Cause"); c != "NORMAL_CLEARING" {
			t.Errorf("%s hung up with %s, want NORMAL_CLEARING", name, c)
		}
		if v := e.Get("variable_loopback_hangup_cause"); v != "bridge" {
			t.Errorf("%s: loopback_hangup_cause=%q, want bridge", name, v)
		}
	}
	if got, want := ev["loopback/1001-a"].Get("variable_loopback_bowout_other_uuid"), legA.UUID(); got != want {
		t.Errorf("A half's loopback_bowout_other_uuid = %q, want 1000's channel %q", got, want)
	}
	if got, want := ev["loopback/1001-b"].Get("variable_loopback_bowout_other_uuid"), legB.UUID(); got != want {
		t.Errorf("B half's loopback_bowout_other_uuid = %q, want 1001's leg %q", got, want)
	}
	// µ-law 0x7f is a second code for zero: decoding and encoding again (a loopback pipe in the
	// path) turns it into 0xff; the relay passes it unchanged.
	rtpBothWays(t, pa, pb, legA, legB, 0x7f, 0x7f)
	if n := env.h.SessionCount(); n != 2 || legA.HungUp() || legB.HungUp() {
		t.Errorf("%d channels after the bowout (1000 up %v, 1001 up %v), want the two phones'", n, !legA.HungUp(), !legB.HungUp())
	}
	if out, _ := env.h.APIOutput(t.Context(), "show", "channels count"); strings.TrimSpace(out) != "2 total." {
		t.Errorf("show channels count after the bowout: %q, want 2 total.", out)
	}
	if o := legA.Originatee(); o != legB {
		t.Errorf("1000's originatee is %s, want the leg to 1001", chanName(o))
	}
	legB.Hangup(core.CauseNormalClearing)
	a.wait(t, "1000 (BYE from the PBX once 1001's leg ended)")
	b.wait(t, "1001")
	waitFor(t, "no channels left", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	if c := legA.HangupCause(); c != core.CauseNormalClearing {
		t.Errorf("1000 hung up with %s, want NORMAL_CLEARING", c)
	}
}

// TestSIPpLoopbackNoBowout: with loopback_bowout=false, on the dial string or set by the B half's
// dialplan, the pair stays in the path: RTP still crosses both ways (through the pair's pipe) and
// all four channels stay up.
func TestSIPpLoopbackNoBowout(t *testing.T) {
	for _, tc := range []struct{ dest, pair string }{
		{"lbkeep1001", "loopback/1001"},
		{"lbkeepb1001", "loopback/keep1001"},
	} {
		t.Run(tc.dest, func(t *testing.T) {
			env := newEnv(t, envOpt{defaultExtra: bowoutExt})
			pa, pb := newRTPPeer(t), newRTPPeer(t)
			a, b, legA, legB := loopbackCall(t, env, tc.dest, pa, pb)
			waitFor(t, "the B half bridged to 1001", 5*time.Second, func() bool {
				p := legB.Peer()
				return p != nil && p.Name() == tc.pair+"-b"
			})
			if p := legA.Peer(); p == nil || p.Name() != tc.pair+"-a" {
				t.Fatalf("1000 is bridged to %s, want the pair's A half", chanName(p))
			}
			rtpBothWays(t, pa, pb, legA, legB, 0x7f, 0xff) // decoded and encoded again by the pair's pipe
			if n, lb := env.h.SessionCount(), loopbackSessions(env.h); n != 4 || lb != 2 {
				t.Errorf("%d channels (%d loopback) after a second of media, want 4 (2)", n, lb)
			}
			legB.Hangup(core.CauseNormalClearing)
			a.wait(t, "1000")
			b.wait(t, "1001")
			waitFor(t, "no channels left", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
		})
	}
}

// TestSIPpLoopbackChainBowout: two pairs in a row (loopback/lb1001, whose B half dials
// loopback/1001) both leave: 1000 is bridged straight to 1001 with relayed RTP and all four
// loopback channels are gone.
func TestSIPpLoopbackChainBowout(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: bowoutExt})
	pa, pb := newRTPPeer(t), newRTPPeer(t)
	a, b, _, _ := loopbackCall(t, env, "lbchain1001", pa, pb)
	var legA, legB *core.Session
	waitFor(t, "1000 bridged straight to 1001", 10*time.Second, func() bool {
		legA = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Var("sip_from_user") == "1000"
		})
		legB = outboundTo(env, "1001")
		return legA != nil && legB != nil && legA.Peer() == legB && loopbackSessions(env.h) == 0
	})
	rtpBothWays(t, pa, pb, legA, legB, 0x7f, 0x7f)
	if n := env.h.SessionCount(); n != 2 {
		t.Errorf("%d channels after the bowout, want the two phones'", n)
	}
	legA.Hangup(core.CauseNormalClearing)
	a.wait(t, "1000")
	b.wait(t, "1001 (BYE from the PBX once 1000 hung up)")
	waitFor(t, "no channels left", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpLoopbackBowoutOnExecute: with loopback_bowout_on_execute the B half does not run its
// extension: it hands it to 1000's channel (loopback::bowout) and hangs up; 1000's channel
// bridges 1001 itself.
func TestSIPpLoopbackBowoutOnExecute(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: bowoutExt})
	sub := subscribe(env.h, "loopback::bowout")
	defer sub.Close()
	pa, pb := newRTPPeer(t), newRTPPeer(t)
	a, b, legA, legB := loopbackCall(t, env, "lbexec1001", pa, pb)
	if legB.Peer() != legA || loopbackSessions(env.h) != 0 {
		t.Fatalf("1001's leg is bridged to %s with %d loopback channels, want 1000's channel and none", chanName(legB.Peer()), loopbackSessions(env.h))
	}
	select {
	case e := <-sub.C():
		if e.Get("Acquired-UUID") != legA.UUID() {
			t.Errorf("loopback::bowout Acquired-UUID %q, want 1000's channel %q", e.Get("Acquired-UUID"), legA.UUID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no loopback::bowout event")
	}
	if o := legB.Originator(); o != legA {
		t.Errorf("1001's leg was originated by %s, want 1000's channel", chanName(o))
	}
	if got := legA.Profile().DestNumber; got != "1001" {
		t.Errorf("1000's destination after the bowout %q, want the B half's 1001", got)
	}
	rtpBothWays(t, pa, pb, legA, legB, 0x7f, 0x7f)
	legB.Hangup(core.CauseNormalClearing)
	a.wait(t, "1000")
	b.wait(t, "1001")
	waitFor(t, "no channels left", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
