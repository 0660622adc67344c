package sip

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	_ "github.com/goswitch/goswitch/apps/voicemail"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// presenceExtra turns presence on for the internal profile, as vanilla internal.xml does.
const presenceExtra = `<param name="manage-presence" value="true"/><param name="presence-hosts" value="127.0.0.1"/>`

// writeWAV writes one second of 8 kHz 16-bit mono silence, a voicemail message to inject.
func writeWAV(t *testing.T, path string) {
	t.Helper()
	data := make([]byte, 16000)
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+len(data)))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], 8000)
	binary.LittleEndian.PutUint32(hdr[28:], 16000)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(hdr, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitSIPpGot waits until SIPp's message trace shows it received a message containing all of
// want (the tests judge by what the phone saw, not by goswitch's internals).
func waitSIPpGot(t *testing.T, r *sippRun, what string, want ...string) {
	t.Helper()
	waitFor(t, what, 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(r.dir, "msg.log"))
		for _, m := range strings.Split(string(b), "-----------------------------------------------") {
			if !strings.Contains(m, "message received") {
				continue
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(m, w)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// subscriptionRows counts rows of the subscription store matching where.
func subscriptionRows(env *testEnv, where string, args ...any) int {
	n := -1
	if err := env.ep.db.SQL().QueryRow(`SELECT count(*) FROM sip_subscriptions WHERE `+where, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

// TestSIPpMWISubscribe: a SIPp phone SUBSCRIBEs to 1001's message-summary (through the 407),
// gets "Messages-Waiting: no" at once, "yes" with "Voice-Message: 1/0" when a voicemail is
// left for 1001 (vm_inject, the voicemail module's MESSAGE_WAITING), and a terminated NOTIFY
// when it unsubscribes. The subscription is in the store meanwhile and gone after.
func TestSIPpMWISubscribe(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	env.h.SetGlobal("storage_dir", t.TempDir())
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("subscribe_mwi.xml"), "-s", "1001", "-au", "1001", "-ap", "1234")
	waitSIPpGot(t, r, "initial NOTIFY", "NOTIFY sip:1001@", "Messages-Waiting: no")
	waitFor(t, "subscription row", 5*time.Second, func() bool {
		return subscriptionRows(env, `event = 'message-summary' AND sub_to_user = '1001' AND sip_user = '1001'`) == 1
	})
	wav := filepath.Join(t.TempDir(), "msg.wav")
	writeWAV(t, wav)
	out, err := env.h.APIOutput(t.Context(), "vm_inject", "1001@127.0.0.1 "+wav+" 1000 Caller")
	if err != nil || !strings.HasPrefix(out, "+OK 1 message") {
		t.Fatalf("vm_inject: %q %v", out, err)
	}
	r.wait(t, "mwi subscriber")
	waitFor(t, "subscription removed", 5*time.Second, func() bool {
		return subscriptionRows(env, `event = 'message-summary'`) == 0
	})
}

// TestSIPpBLFDialog: 1003 watches 1001's dialog package with SIPp; 1000 calls 1001 (a
// registered SIPp UAS): the watcher sees the dialog confirmed while the call is up and
// terminated after it, and PRESENCE_IN events carry FreeSWITCH's headers.
func TestSIPpBLFDialog(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	pin := subscribe(env.h, event.PresenceIn, event.PresenceProbe)
	defer pin.Close()
	uas := registerUAS(t, env, "uas.xml", "1001", "0", "PCMU", 100)
	watcher := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("subscribe_blf.xml"), "-s", "1003", "-au", "1003", "-ap", "1234", "-key", "target", "1001")
	waitSIPpGot(t, watcher, "initial dialog NOTIFY", "NOTIFY sip:1003@", "dialog-info")
	peer := newRTPPeer(t)
	caller := callAs1000(t, env, "1001", peer.port(), 1500)
	caller.wait(t, "caller")
	uas.wait(t, "uas")
	watcher.wait(t, "blf watcher")
	var probe, answered, hangup bool
	timeout := time.After(2 * time.Second)
	for !(probe && answered && hangup) {
		select {
		case e := <-pin.C():
			switch {
			case e.Name == event.PresenceProbe && e.Get("to") == "1001@127.0.0.1" && e.Get("proto-specific-event-name") == "dialog":
				probe = true
			case e.Name == event.PresenceIn && e.Get("from") == "1001@127.0.0.1" && e.Get("status") == "answered":
				answered = e.Get("Unique-ID") != "" && e.Get("Answer-State") == "answered" && e.Get("event_type") == "presence" &&
					e.Get("presence-call-direction") == "outbound"
			case e.Name == event.PresenceIn && e.Get("from") == "1001@127.0.0.1" && e.Get("status") == "CS_HANGUP":
				hangup = e.Get("presence-call-info-state") == "idle"
			}
		case <-timeout:
			t.Fatalf("events: probe=%v answered=%v hangup=%v", probe, answered, hangup)
		}
	}
}

// TestSIPpSubscriptionExpires: a presence subscription with Expires: 2 gets its initial PIDF
// NOTIFY (1001 not registered: closed) and, when it runs out, a NOTIFY with
// Subscription-State: terminated;reason=timeout; the store forgets it.
// Over TCP the NOTIFYs go back on the subscriber's connection.
func TestSIPpSubscriptionExpires(t *testing.T) {
	for _, tr := range []string{"u1", "t1"} {
		t.Run(tr, func(t *testing.T) {
			env := newEnv(t, envOpt{internalExtra: presenceExtra})
			start := time.Now()
			r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("subscribe_expire.xml"), "-t", tr, "-s", "1003", "-au", "1003", "-ap", "1234",
				"-key", "target", "1001", "-key", "expires", "2")
			r.wait(t, "expiring subscription")
			if d := time.Since(start); d < 1900*time.Millisecond {
				t.Errorf("terminated after %v, before the 2 s expiry", d)
			}
			waitFor(t, "expired subscription deleted", 5*time.Second, func() bool { return subscriptionRows(env, "1") == 0 })
		})
	}
}

// digestHeader answers a 407 challenge for user 1000 (password 1234).
func digestHeader(t *testing.T, res, method, uri string) string {
	t.Helper()
	chal, err := digest.ParseChallenge(header(res, "Proxy-Authenticate"))
	if err != nil {
		t.Fatalf("challenge: %v in\n%s", err, res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: "1000", Password: "1234", Cnonce: "abc", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// TestOutOfDialogRequestsChallenged: on a profile with auth-calls, SUBSCRIBE, MESSAGE, NOTIFY
// and INFO outside a dialog without credentials get 407 with Proxy-Authenticate, as INVITE
// does. With credentials, 1000 may not watch 1001's mailbox (403) but may its own (202), and
// an unknown event package gets 489 with Allow-Events.
func TestOutOfDialogRequestsChallenged(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	ua := newRawUA(t, env.addr(t, "internal"))
	for i, m := range []string{"SUBSCRIBE", "MESSAGE", "NOTIFY", "INFO"} {
		extra := ""
		body := ""
		switch m {
		case "SUBSCRIBE", "NOTIFY":
			extra = "Event: message-summary\nExpires: 60\n"
			if m == "NOTIFY" {
				extra = "Event: message-summary\nSubscription-State: active\n"
			}
		case "MESSAGE":
			extra = "Content-Type: text/plain\n"
		}
		req := ua.request(m, "sip:1001@127.0.0.1", fmt.Sprintf("ood-%d", i), 1, extra, body)
		ua.send(req)
		res := ua.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 407") || !strings.Contains(header(res, "Proxy-Authenticate"), "Digest") {
			t.Errorf("%s without credentials: got\n%s", m, res)
		}
	}
	subscribeAs1000 := func(callID, to, ev string) string {
		extra := "Event: " + ev + "\nExpires: 60\n"
		ua.send(ua.request("SUBSCRIBE", to, callID, 1, extra, ""))
		res := ua.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 407") {
			return res
		}
		auth := digestHeader(t, res, "SUBSCRIBE", to)
		ua.send(ua.request("SUBSCRIBE", to, callID, 2, extra+"Proxy-Authorization: "+auth+"\n", ""))
		return ua.recv(3 * time.Second)
	}
	if res := subscribeAs1000("mwi-other", "sip:1001@127.0.0.1", "message-summary"); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Errorf("1000 watching 1001's mailbox: got\n%s", res)
	}
	if res := subscribeAs1000("mwi-own", "sip:1000@127.0.0.1", "message-summary"); !strings.HasPrefix(res, "SIP/2.0 202") ||
		!strings.Contains(header(res, "To"), "tag=") || header(res, "Expires") != "60" {
		t.Errorf("1000 watching its own mailbox: got\n%s", res)
	}
	// The initial NOTIFY follows (voicemail answers the MESSAGE_QUERY, or the fallback).
	if n := ua.recv(5 * time.Second); !strings.HasPrefix(n, "NOTIFY ") || !strings.Contains(n, "Messages-Waiting: no") ||
		header(n, "Content-Type") != "application/simple-message-summary" {
		t.Errorf("initial NOTIFY:\n%s", n)
	} else {
		ua.send(rawOK(n))
	}
	if res := subscribeAs1000("bad-event", "sip:1001@127.0.0.1", "x-unknown"); !strings.HasPrefix(res, "SIP/2.0 489") ||
		!strings.Contains(header(res, "Allow-Events"), "message-summary") {
		t.Errorf("unknown event package: got\n%s", res)
	}
}

// rawOK is a 200 OK (LF line ends, rawUA.send makes them CRLF) for a request a rawUA received.
func rawOK(req string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\n")
	for _, l := range strings.Split(req, "\r\n") {
		k, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "via", "from", "to", "call-id", "cseq":
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("Content-Length: 0\n\n")
	return b.String()
}

// TestUnsolicitedMWIOnRegister: with send-message-query-on-register on the profile, a phone
// that registers (SIPp, its Contact a plain UDP socket here) gets an unsolicited NOTIFY
// message-summary with its counts, and another when a voicemail is left.
func TestUnsolicitedMWIOnRegister(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra + `<param name="send-message-query-on-register" value="true"/>`})
	env.h.SetGlobal("storage_dir", t.TempDir())
	phone := newRawUA(t, env.addr(t, "internal"))
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", itoa(phone.port()))
	reg.wait(t, "register 1001")
	expect := func(what, waiting string) {
		t.Helper()
		n := phone.recv(5 * time.Second)
		if !strings.HasPrefix(n, "NOTIFY sip:1001@127.0.0.1:"+itoa(phone.port())) || header(n, "Event") != "message-summary" ||
			!strings.HasPrefix(header(n, "Subscription-State"), "terminated") || !strings.Contains(n, "Messages-Waiting: "+waiting) {
			t.Fatalf("%s: got\n%s", what, n)
		}
		phone.send(rawOK(n))
	}
	expect("NOTIFY after REGISTER", "no")
	wav := filepath.Join(t.TempDir(), "msg.wav")
	writeWAV(t, wav)
	if out, err := env.h.APIOutput(t.Context(), "vm_inject", "1001@127.0.0.1 "+wav); err != nil || !strings.HasPrefix(out, "+OK") {
		t.Fatalf("vm_inject: %q %v", out, err)
	}
	expect("NOTIFY after a voicemail", "yes")
}

// TestSubscriptionSurvivesRestart: subscriptions are kept in the store (sip_subscriptions in
// sofia_reg.db): after a restart the new process still knows the subscriber and ends the
// subscription at its expiry with a terminated NOTIFY in the same dialog, CSeq moving on.
func TestSubscriptionSurvivesRestart(t *testing.T) {
	db := t.TempDir()
	env := newEnv(t, envOpt{internalExtra: presenceExtra, dbDir: db})
	ua := newRawUA(t, env.addr(t, "internal"))
	to := "sip:1000@127.0.0.1"
	extra := "Event: presence\nExpires: 3\n"
	ua.send(ua.request("SUBSCRIBE", to, "restart-1", 1, extra, ""))
	res := ua.recv(3 * time.Second)
	ua.send(ua.request("SUBSCRIBE", to, "restart-1", 2, extra+"Proxy-Authorization: "+digestHeader(t, res, "SUBSCRIBE", to)+"\n", ""))
	if res = ua.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 202") {
		t.Fatalf("SUBSCRIBE: %s", res)
	}
	n := ua.recv(3 * time.Second)
	if !strings.HasPrefix(n, "NOTIFY ") || !strings.Contains(n, "<basic>") {
		t.Fatalf("initial NOTIFY: %s", n)
	}
	ua.send(rawOK(n))
	cseq := func(m string) int { v, _ := strconv.Atoi(strings.Fields(header(m, "CSeq") + " x")[0]); return v }
	first := cseq(n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env.h.Stop(ctx, core.CauseSystemShutdown)
	env2 := newEnv(t, envOpt{internalExtra: presenceExtra, dbDir: db})
	if rows := subscriptionRows(env2, "call_id = 'restart-1'"); rows != 1 {
		t.Fatalf("restored rows = %d", rows)
	}
	n = ua.recv(5 * time.Second)
	if !strings.HasPrefix(n, "NOTIFY ") || header(n, "Subscription-State") != "terminated;reason=timeout" ||
		header(n, "Call-ID") != "restart-1" || cseq(n) <= first {
		t.Fatalf("final NOTIFY after restart (first CSeq %d):\n%s", first, n)
	}
	ua.send(rawOK(n))
}

// TestPresenceInFromEventSocket: a PRESENCE_IN that does not come from a channel (an event
// socket client's sendevent, the usual way to drive custom BLF keys in FreeSWITCH) reaches
// dialog watchers too.
func TestPresenceInFromEventSocket(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	ua := newRawUA(t, env.addr(t, "internal"))
	to := "sip:1001@127.0.0.1"
	extra := "Event: dialog\nExpires: 60\n"
	ua.send(ua.request("SUBSCRIBE", to, "esl-blf", 1, extra, ""))
	res := ua.recv(3 * time.Second)
	ua.send(ua.request("SUBSCRIBE", to, "esl-blf", 2, extra+"Proxy-Authorization: "+digestHeader(t, res, "SUBSCRIBE", to)+"\n", ""))
	if res = ua.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 202") {
		t.Fatalf("SUBSCRIBE: %s", res)
	}
	n := ua.recv(3 * time.Second)
	if !strings.HasPrefix(n, "NOTIFY ") || strings.Contains(n, "<dialog id") {
		t.Fatalf("initial NOTIFY (no calls): %s", n)
	}
	ua.send(rawOK(n))
	e := env.h.Bus.New(event.PresenceIn, "")
	for _, kv := range [][2]string{{"proto", "sip"}, {"from", "1001@127.0.0.1"}, {"Unique-ID", "esl-call-1"},
		{"Answer-State", "answered"}, {"presence-call-direction", "outbound"}, {"Caller-Caller-ID-Number", "5551234"}} {
		e.Add(kv[0], kv[1])
	}
	env.h.Bus.Publish(e)
	n = ua.recv(3 * time.Second)
	if !strings.Contains(n, `<dialog id="esl-call-1" direction="recipient">`) || !strings.Contains(n, "<state>confirmed</state>") ||
		!strings.Contains(n, "sip:5551234@127.0.0.1") {
		t.Fatalf("NOTIFY after PRESENCE_IN: %s", n)
	}
	ua.send(rawOK(n))
}

// TestMessageToRegisteredUser: an authenticated MESSAGE from 1000 reaches 1001's registered
// contact (202); to a user who is not registered it gets 480.
func TestMessageToRegisteredUser(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	phone := newRawUA(t, env.addr(t, "internal"))
	ua := newRawUA(t, env.addr(t, "internal"))
	message := func(to, callID string, cseq int, extra string) string {
		return strings.Replace(ua.request("MESSAGE", to, callID, cseq, extra, "hello 1001"), "application/sdp", "text/plain", 1)
	}
	send := func(callID, to string) string {
		ua.send(message(to, callID, 1, ""))
		res := ua.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 407") {
			return res
		}
		ua.send(message(to, callID, 2, "Proxy-Authorization: "+digestHeader(t, res, "MESSAGE", to)+"\n"))
		return ua.recv(3 * time.Second)
	}
	if res := send("msg-1", "sip:1003@127.0.0.1"); !strings.HasPrefix(res, "SIP/2.0 480") {
		t.Errorf("MESSAGE to an unregistered user: %s", res)
	}
	if res := send("msg-0", "sip:9999@127.0.0.1"); !strings.HasPrefix(res, "SIP/2.0 480") {
		t.Errorf("MESSAGE to an unknown user must be answered as an unregistered one (no enumeration): %s", res)
	}
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", itoa(phone.port()))
	reg.wait(t, "register 1001")
	if res := send("msg-2", "sip:1001@127.0.0.1"); !strings.HasPrefix(res, "SIP/2.0 202") {
		t.Fatalf("MESSAGE to 1001: %s", res)
	}
	m := phone.recv(3 * time.Second)
	if !strings.HasPrefix(m, "MESSAGE sip:1001@127.0.0.1:"+itoa(phone.port())) || !strings.Contains(header(m, "From"), "sip:1000@127.0.0.1") ||
		header(m, "Content-Type") != "text/plain" || !strings.HasSuffix(m, "hello 1001") {
		t.Fatalf("relayed MESSAGE: %s", m)
	}
	phone.send(rawOK(m))
}

// TestResubscribeRefreshes: a re-SUBSCRIBE in the dialog (authenticated again) extends the
// subscription and gets a NOTIFY with the state; it does not run out at the first Expires.
func TestResubscribeRefreshes(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	ua := newRawUA(t, env.addr(t, "internal"))
	to := "sip:1001@127.0.0.1"
	subscribe := func(cseq int, expires, toTag string) string {
		extra := "Event: presence\nExpires: " + expires + "\n"
		req := func(c int, x string) string {
			m := ua.request("SUBSCRIBE", to, "refresh-1", c, x, "")
			if toTag != "" {
				m = strings.Replace(m, "To: <"+to+">", "To: <"+to+">;tag="+toTag, 1)
			}
			return m
		}
		ua.send(req(cseq, extra))
		res := ua.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 407") {
			return res
		}
		ua.send(req(cseq+1, extra+"Proxy-Authorization: "+digestHeader(t, res, "SUBSCRIBE", to)+"\n"))
		return ua.recv(3 * time.Second)
	}
	res := subscribe(1, "2", "")
	tag := ""
	if _, after, ok := strings.Cut(header(res, "To"), "tag="); ok {
		tag = after
	}
	if !strings.HasPrefix(res, "SIP/2.0 202") || tag == "" {
		t.Fatalf("SUBSCRIBE: %s", res)
	}
	n := ua.recv(3 * time.Second)
	ua.send(rawOK(n))
	if res := subscribe(3, "60", tag); !strings.HasPrefix(res, "SIP/2.0 202") || header(res, "Expires") != "60" {
		t.Fatalf("re-SUBSCRIBE: %s", res)
	}
	n = ua.recv(3 * time.Second)
	if !strings.HasPrefix(n, "NOTIFY ") || !strings.HasPrefix(header(n, "Subscription-State"), "active") {
		t.Fatalf("NOTIFY after refresh: %s", n)
	}
	ua.send(rawOK(n))
	if n := ua.recv(3 * time.Second); n != "" {
		t.Fatalf("refreshed subscription sent:\n%s", n)
	}
	if res := subscribe(5, "60", "no-such-tag"); !strings.HasPrefix(res, "SIP/2.0 481") {
		t.Errorf("re-SUBSCRIBE of no subscription: %s", res)
	}
}

// TestSubscribeGuessesAreBanned: wrong passwords on SUBSCRIBE count towards the source's
// lockout as on REGISTER and INVITE (auth-fail-max 5): SUBSCRIBE is no side door for a
// password guesser.
func TestSubscribeGuessesAreBanned(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: presenceExtra})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 31)})
	if err != nil {
		t.Fatal(err)
	}
	ua := &rawUA{t: t, conn: c, dst: env.addr(t, "internal")}
	t.Cleanup(func() { c.Close() })
	to := "sip:1000@127.0.0.1"
	answered := 0
	for i := 0; i < 7; i++ {
		callID := fmt.Sprintf("guess-%d", i)
		extra := "Event: message-summary\nExpires: 60\n"
		ua.send(strings.ReplaceAll(ua.request("SUBSCRIBE", to, callID, 1, extra, ""), "127.0.0.1:"+itoa(ua.port()), "127.0.0.31:"+itoa(ua.port())))
		res := ua.recv(time.Second)
		if res == "" {
			break // banned: no answer
		}
		chal, err := digest.ParseChallenge(header(res, "Proxy-Authenticate"))
		if err != nil {
			t.Fatalf("challenge %d: %s", i, res)
		}
		cred, _ := digest.Digest(chal, digest.Options{Method: "SUBSCRIBE", URI: to, Username: "1000", Password: fmt.Sprint(9000 + i), Cnonce: "x", Count: 1})
		ua.send(strings.ReplaceAll(ua.request("SUBSCRIBE", to, callID, 2, extra+"Proxy-Authorization: "+cred.String()+"\n", ""), "127.0.0.1:"+itoa(ua.port()), "127.0.0.31:"+itoa(ua.port())))
		if res = ua.recv(time.Second); !strings.HasPrefix(res, "SIP/2.0 403") {
			t.Fatalf("wrong password %d: %s", i, res)
		}
		answered++
	}
	if answered != 5 {
		t.Errorf("%d wrong passwords answered before the ban, want 5", answered)
	}
	if list := env.api(t, "ban", "list"); !strings.Contains(list, "127.0.0.31 ") {
		t.Errorf("source not banned:\n%s", list)
	}
}
