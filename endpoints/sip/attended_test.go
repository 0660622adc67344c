package sip

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// registerMediaUAS registers user with a SIPp UAS whose media is the test's RTP socket peer.
func registerMediaUAS(t *testing.T, env *testEnv, user string, peer *rtpPeer) *sippRun {
	t.Helper()
	port := itoa(freeUDPPort(t))
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_rtpport.xml"), "-s", user, "-p", port,
		"-mi", "127.0.0.1", "-key", "rtpport", itoa(peer.port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-d", "0")
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", user, "-au", user, "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register "+user)
	waitFor(t, user+" registered", 10*time.Second, func() bool { return len(env.ep.Contacts("internal", user, "127.0.0.1")) == 1 })
	return r
}

// outboundTo finds the answered outbound leg to user.
func outboundTo(env *testEnv, user string) *core.Session {
	return findSession(env.h, func(s *core.Session) bool {
		return s.Direction() == core.Outbound && s.Answered() && !s.HungUp() && s.Var("sip_to_user") == user
	})
}

// TestSIPpAttendedTransfer: 1000 talks to 1002 (call 2), then to 1001 (call 1), and REFERs call 1
// with Replaces naming call 2: 1001 and 1002 end up bridged to each other with RTP both ways, and
// both of 1000's calls are hung up by the PBX.
func TestSIPpAttendedTransfer(t *testing.T) {
	env := newEnv(t, envOpt{})
	pb, pc := newRTPPeer(t), newRTPPeer(t)
	b := registerMediaUAS(t, env, "1001", pb)
	c := registerMediaUAS(t, env, "1002", pc)
	a2 := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_recv_bye.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1002", "-key", "rtpport", itoa(newRTPPeer(t).port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	var call2 *core.Session
	waitFor(t, "call 2 bridged", 10*time.Second, func() bool {
		call2 = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Peer() != nil && s.Profile().DestNumber == "1002"
		})
		return call2 != nil
	})
	a1 := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_refer_replaces.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "refer_to", "1002", "-key", "rtpport", itoa(newRTPPeer(t).port()),
		"-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1",
		"-key", "rcallid", call2.Var("sip_call_id"), "-key", "rtotag", call2.Var("sip_to_tag"), "-key", "rfromtag", call2.Var("sip_from_tag"))
	var legB, legC *core.Session
	waitFor(t, "1001 bridged to 1002", 15*time.Second, func() bool {
		legB, legC = outboundTo(env, "1001"), outboundTo(env, "1002")
		return legB != nil && legC != nil && legB.Peer() == legC
	})
	a1.wait(t, "transferor's call 1 (REFER, NOTIFY, BYE from the PBX)")
	a2.wait(t, "transferor's call 2 (replaced: BYE from the PBX)")
	portOf := func(s *core.Session) netip.AddrPort {
		return netip.MustParseAddrPort("127.0.0.1:" + s.Var("local_media_port"))
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pb.send(portOf(legB), 0, 0x31, 50) }()
	go func() { defer wg.Done(); pc.send(portOf(legC), 0, 0x32, 50) }()
	wg.Wait()
	waitFor(t, "RTP both ways between 1001 and 1002", 3*time.Second, func() bool {
		_, fromC := pb.received()
		_, fromB := pc.received()
		return fromC[0x32] >= 30 && fromB[0x31] >= 30
	})
	if n := env.h.SessionCount(); n != 2 {
		t.Errorf("%d channels after the transfer, want 2 (1001 and 1002)", n)
	}
	legB.Hangup(core.CauseNormalClearing)
	b.wait(t, "1001")
	c.wait(t, "1002")
}

// TestParseReplaces: the Replaces header's grammar (RFC 3891), parameters in any order.
func TestParseReplaces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want replacesID
	}{
		{"abc@h;to-tag=1;from-tag=2", true, replacesID{callID: "abc@h", toTag: "1", fromTag: "2"}},
		{"abc@h; from-tag=2 ;to-tag=1;early-only", true, replacesID{callID: "abc@h", toTag: "1", fromTag: "2", earlyOnly: true}},
		{"abc@h;to-tag=1", false, replacesID{callID: "abc@h", toTag: "1"}},
		{"", false, replacesID{}},
	} {
		got, ok := parseReplaces(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseReplaces(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSIPpInviteReplaces: 1000 talks to 1001; 1003 sends an INVITE with Replaces naming 1000's
// dialog and takes its place: 1003 and 1001 talk (RTP both ways), 1000 gets BYE. A Replaces naming
// no dialog gets 481.
func TestSIPpInviteReplaces(t *testing.T) {
	env := newEnv(t, envOpt{})
	pb, px := newRTPPeer(t), newRTPPeer(t)
	b := registerMediaUAS(t, env, "1001", pb)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_recv_bye.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(newRTPPeer(t).port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	var old *core.Session
	waitFor(t, "1000 bridged to 1001", 10*time.Second, func() bool {
		old = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Peer() != nil && s.Profile().DestNumber == "1001"
		})
		return old != nil
	})
	x := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_invite_replaces.xml"), "-s", "1003", "-au", "1003", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(px.port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1",
		"-key", "rcallid", old.Var("sip_call_id"), "-key", "rtotag", old.Var("sip_to_tag"), "-key", "rfromtag", old.Var("sip_from_tag"), "-d", "3000")
	var legB, newA *core.Session
	waitFor(t, "1003 bridged to 1001", 10*time.Second, func() bool {
		legB = outboundTo(env, "1001")
		newA = findSession(env.h, func(s *core.Session) bool {
			return s.Direction() == core.Inbound && s.Var("sip_from_user") == "1003" && s.Answered()
		})
		return legB != nil && newA != nil && legB.Peer() == newA
	})
	a.wait(t, "1000, replaced (BYE from the PBX)")
	go pb.send(netip.MustParseAddrPort("127.0.0.1:"+legB.Var("local_media_port")), 0, 0x31, 50)
	go px.send(netip.MustParseAddrPort("127.0.0.1:"+newA.Var("local_media_port")), 0, 0x33, 50)
	waitFor(t, "RTP both ways between 1003 and 1001", 4*time.Second, func() bool {
		_, toB := pb.received()
		_, toX := px.received()
		return toB[0x33] >= 30 && toX[0x31] >= 30
	})
	x.wait(t, "1003")
	b.wait(t, "1001")

	bad := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_invite_replaces_481.xml"), "-s", "1003", "-au", "1003", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	bad.wait(t, "Replaces of no dialog: 481")
}
