package sip

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// TestSIPpCalleeSeesCaller: 1000 calls 1001; both have effective_caller_id_* in the directory.
// The INVITE to 1001 (a SIPp UAS checking From) presents 1000, as FreeSWITCH does: the callee's
// own variables land on its leg, for its later calls, not in what it is shown.
func TestSIPpCalleeSeesCaller(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_cid.xml", "1001", "0", "PCMU", 200)
	a := callAs1000(t, env, "1001", freeUDPPort(t), 800)
	waitBridged(t, env, func(_, callee *core.Session) bool {
		if got := callee.Var("effective_caller_id_name"); got != "Extension 1001" {
			t.Errorf("callee leg effective_caller_id_name = %q, want its directory value", got)
		}
		if p := callee.Profile(); p.CallerIDName != "Extension 1000" || p.CallerIDNumber != "1000" {
			t.Errorf("callee leg caller id %q <%s>, want the caller's", p.CallerIDName, p.CallerIDNumber)
		}
		return true
	})
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// TestSIPpSleepBeforeAnswerSendsNoEarlyMedia: 9195 is sleep 1000, answer, echo (vanilla sleeps
// before answering for the default-password warning). FreeSWITCH's sleep needs no media, so
// nothing but the 200 comes after the 100: the SIPp caller fails on a 183.
func TestSIPpSleepBeforeAnswerSendsNoEarlyMedia(t *testing.T) {
	env := newEnv(t, envOpt{})
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_no_early.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9195", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "300", "-mi", "127.0.0.1")
	a.wait(t, "caller")
}

// TestReinviteAnswerStopsAtACK: a caller on hold and back. Each re-INVITE's 200 is ACKed at once,
// so none may come again (the bug: 13 retransmissions over 32 s, the stale hold answer arriving
// after the resume and after the BYE). Over a raw socket, to count every datagram.
func TestReinviteAnswerStopsAtACK(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\n"
	u.send(u.request("INVITE", target, "reack1", 1, "", sdp))
	var res string
	for res = u.recv(3 * time.Second); strings.HasPrefix(res, "SIP/2.0 18"); res = u.recv(3 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE: %q", res)
	}
	to := header(res, "To")
	inDialog := func(method string, cseq int, body string) string {
		m := u.request(method, target, "reack1", cseq, "", body)
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bKreack1", fmt.Sprintf("branch=z9hG4bKreack1%s%d", method, cseq), 1)
	}
	u.send(inDialog("ACK", 1, ""))
	hold := strings.Replace(strings.Replace(sdp, "a=sendrecv", "a=sendonly", 1), "o=- 1 1", "o=- 1 2", 1)
	resume := strings.Replace(sdp, "o=- 1 1", "o=- 1 3", 1)
	for i, offer := range []string{hold, resume} {
		cseq := 2 + i
		u.send(inDialog("INVITE", cseq, offer))
		if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
			t.Fatalf("re-INVITE %d: %q", cseq, res)
		}
		u.send(inDialog("ACK", cseq, ""))
	}
	// T1 is 500 ms: a retransmission would come at 0.5 s, 1.5 s, 3.5 s after each 200.
	deadline := time.Now().Add(2 * time.Second)
	var again []string
	for time.Now().Before(deadline) {
		if m := u.recv(time.Until(deadline)); m != "" {
			again = append(again, strings.SplitN(m, "\r\n", 2)[0]+" / CSeq "+header(m, "CSeq"))
		}
	}
	if len(again) > 0 {
		t.Errorf("after the ACKs goswitch still sent %d messages: %v", len(again), again)
	}
	// A re-INVITE left unacknowledged is retransmitted, but not past the BYE.
	u.send(inDialog("INVITE", 4, hold))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("re-INVITE 4: %q", res)
	}
	u.send(inDialog("BYE", 5, ""))
	for res = u.recv(2 * time.Second); strings.Contains(header(res, "CSeq"), "INVITE"); res = u.recv(2 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") || header(res, "CSeq") != "5 BYE" {
		t.Errorf("BYE: %q", res)
	}
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	if m := u.recv(1500 * time.Millisecond); m != "" {
		t.Errorf("after the BYE: %q", m)
	}
}

// TestSIPpPCMACallerRelayedToPhone: 1000 calls with PCMA only; 1001 takes the first codec offered.
// The B-leg offer leads with the A-leg's codec (FreeSWITCH's originator_codec), so 1001 answers
// PCMA and the bridge relays packets untouched instead of transcoding PCMA<->PCMU.
func TestSIPpPCMACallerRelayedToPhone(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_first_codec.xml", "1001", "0", "PCMU", 200)
	peer := newRTPPeer(t)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_auth.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "1001", "-key", "rtpport", itoa(peer.port()), "-key", "codec", "8", "-key", "codecname", "PCMA",
		"-d", "2500", "-mi", "127.0.0.1")
	var pipeline string
	dst := waitBridged(t, env, func(caller, callee *core.Session) bool {
		if !callee.Answered() || caller.Leg() == nil || caller.Leg().Port() == nil {
			return false
		}
		pipeline = caller.Leg().Port().String()
		return strings.Contains(pipeline, "relay")
	})
	callee := answeredInbound(env).Peer()
	if got := callee.Var("read_codec"); got != "PCMA" {
		t.Errorf("callee leg codec %q (originator_codec %q), want PCMA", got, callee.Var("originator_codec"))
	}
	if strings.Contains(pipeline, "relay(") {
		t.Errorf("caller leg transcodes: %s", pipeline)
	}
	peer.send(dst, 8, 0x33, 50)
	time.Sleep(200 * time.Millisecond)
	if got, seen := peer.received(); seen[0x33] < 30 {
		t.Errorf("relayed media: got %d packets back, %d with our payload", got, seen[0x33])
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
}

// TestBaresipSleepThenAnswer: baresip calls 9195 (sleep 1000, answer, echo). The call must not
// go through early media (no 183 during the sleep); once answered, audio flows both ways.
func TestBaresipSleepThenAnswer(t *testing.T) {
	bin := baresipPath(t)
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER")
	defer sub.Close()
	dir := t.TempDir()
	addr := env.addr(t, "internal")
	conf := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
sip_trans_def udp
audio_player aubridge,nil
audio_source ausine,440
audio_alert aubridge,nil
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
`, freeUDPPort(t))
	os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "accounts"), []byte(fmt.Sprintf("<sip:1000@%s>;auth_pass=1234;regint=60\n", addr)), 0o644)
	cmd := exec.Command(bin, "-f", dir, "-t", "6", "-e", fmt.Sprintf("/dial sip:9195@%s", addr))
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("baresip:\n%s", tail(out.String(), 4000))
		}
	}()
	waitFor(t, "answered call with audio both ways", 8*time.Second, func() bool {
		s := answeredInbound(env)
		if s == nil {
			return false
		}
		p, ok := s.Port().(*rtp.RTPPort)
		if !ok {
			return false
		}
		st := p.Stats()
		return st.PacketsIn > 25 && st.PacketsOut > 25
	})
	// Events come in order: CHANNEL_ANSWER must be the first of the two.
	select {
	case e := <-sub.C():
		if e.Name != "CHANNEL_ANSWER" {
			t.Errorf("%s before the answer", e.Name)
		}
	case <-time.After(time.Second):
		t.Fatal("no CHANNEL_ANSWER")
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("baresip did not quit")
	}
	waitFor(t, "hangup", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestInheritCodec: a caller offering PCMU then PCMA, with inherit_codec=true, calls a phone
// that answers PCMA only: before answering, the A-leg takes the B-leg's PCMA (it was offered),
// so the caller's 200 says PCMA and the bridge relays instead of transcoding.
func TestInheritCodec(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas.xml", "1001", "8", "PCMA", 200)
	rec := newRTPRecorder(t)
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:61001@" + env.addr(t, "external").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio " + itoa(rec.port()) +
		" RTP/AVP 0 8\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=sendrecv\n"
	u.send(u.request("INVITE", target, "inherit1", 1, "", sdp))
	var res string
	for res = u.recv(5 * time.Second); strings.HasPrefix(res, "SIP/2.0 18"); res = u.recv(5 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(res, "m=audio") {
		t.Fatalf("INVITE: %q", res)
	}
	if !strings.Contains(res, "RTP/AVP 8") {
		t.Errorf("the caller's answer did not inherit PCMA:\n%s", res)
	}
	to := header(res, "To")
	inDialog := func(method string, cseq int) string {
		m := u.request(method, target, "inherit1", cseq, "", "")
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bKinherit1", "branch=z9hG4bKinherit1"+method, 1)
	}
	u.send(inDialog("ACK", 1))
	waitBridged(t, env, func(caller, _ *core.Session) bool {
		p := caller.Leg().Port().String()
		if !strings.Contains(p, "relay") {
			return false
		}
		if strings.Contains(p, "relay(") {
			t.Errorf("caller leg transcodes: %s", p)
		}
		return true
	})
	u.send(inDialog("BYE", 2))
	b.wait(t, "callee")
	waitFor(t, "calls gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
