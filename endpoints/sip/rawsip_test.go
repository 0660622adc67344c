package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/sdp"
)

// rawUA speaks SIP over a plain UDP socket, for what SIPp cannot express.
type rawUA struct {
	t    *testing.T
	conn *net.UDPConn
	dst  netip.AddrPort
}

func newRawUA(t *testing.T, dst netip.AddrPort) *rawUA {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawUA{t: t, conn: c, dst: dst}
}

func (u *rawUA) port() int { return u.conn.LocalAddr().(*net.UDPAddr).Port }

func (u *rawUA) send(msg string) {
	msg = strings.ReplaceAll(msg, "\n", "\r\n")
	if _, err := u.conn.WriteToUDPAddrPort([]byte(msg), u.dst); err != nil {
		u.t.Fatal(err)
	}
}

// recv returns the next message that is not a 100 Trying ("" on timeout).
func (u *rawUA) recv(d time.Duration) string {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		m := string(buf[:n])
		if strings.HasPrefix(m, "SIP/2.0 100") {
			continue
		}
		return m
	}
}

func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (u *rawUA) request(method, ruri, callID string, cseq int, extra, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\n"
	}
	return fmt.Sprintf("%s %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s%d;rport\nFrom: <sip:1000@127.0.0.1>;tag=raw1\nTo: <%s>%s\nCall-ID: %s\nCSeq: %d %s\nContact: <sip:1000@127.0.0.1:%d>\nMax-Forwards: 70\n%s%sContent-Length: %d\n\n%s",
		method, ruri, u.port(), callID, cseq, ruri, "", callID, cseq, method, u.port(), extra, ct, len(strings.ReplaceAll(body, "\n", "\r\n")), body)
}

func TestOptionsRequireAnd481(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()

	u.send(u.request("OPTIONS", target, "opt1", 1, "", ""))
	res := u.recv(2 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(header(res, "Allow"), "INVITE") {
		t.Errorf("OPTIONS: %q", res)
	}

	u.send(u.request("INVITE", target, "req1", 1, "Require: 100rel\n", ""))
	res = u.recv(2 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 420") || header(res, "Unsupported") != "100rel" {
		t.Errorf("Require 100rel: %q", res)
	}
	u.send(u.request("ACK", target, "req1", 1, "", ""))

	u.send(u.request("BYE", target, "nodialog", 1, "", ""))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 481") {
		t.Errorf("BYE outside a dialog: %q", res)
	}

	big := strings.Repeat("a=x-padding:0123456789\n", 1000)
	u.send(u.request("OPTIONS", target, "big1", 1, "", big))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 513") {
		t.Errorf("oversized body: %q", res)
	}

	// Garbage and truncated messages never stop the server.
	u.send("\x00\x01garbage\r\n\r\n")
	u.send("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n")
	u.send(u.request("OPTIONS", target, "opt2", 1, "", ""))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("OPTIONS after garbage: %q", res)
	}
}

func TestAuthFailuresAndSessionTimer(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"

	u.send(u.request("INVITE", target, "auth1", 1, "", sdp))
	res := u.recv(2 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 407") || !strings.Contains(header(res, "Proxy-Authenticate"), `realm="127.0.0.1"`) {
		t.Fatalf("no challenge: %q", res)
	}
	u.send(u.request("ACK", target, "auth1", 1, "", ""))
	// A wrong password is refused with 403.
	bad := `Proxy-Authorization: Digest username="1000", realm="127.0.0.1", nonce="deadbeef", uri="` + target + `", response="00000000000000000000000000000000", algorithm=MD5` + "\n"
	u.send(u.request("INVITE", target, "auth1", 2, bad, sdp))
	res = u.recv(2 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 407") && !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Errorf("unknown nonce: %q", res)
	}

	// The external profile does not authenticate; a Session-Expires below Min-SE gets 422.
	ue := newRawUA(t, env.addr(t, "external"))
	et := "sip:9196@" + env.addr(t, "external").String()
	ue.send(ue.request("INVITE", et, "st1", 1, "Session-Expires: 30\n", sdp))
	res = ue.recv(2 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 422") || header(res, "Min-SE") != "120" {
		t.Errorf("session timer: %q", res)
	}
}

// TestSRTPEcho: an SDES-SRTP call to echo on the external profile: the answer is RTP/SAVP with
// our key, and SRTP we send comes back decryptable with it.
func TestSRTPEcho(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	rtpC, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpC.Close()
	// The UA offers with core/sdp (mandatory SDES, one suite) and keys itself from the answer.
	offer, err := sdp.BuildOffer(sdp.Config{IP: netip.MustParseAddr("127.0.0.1"), Port: rtpC.LocalAddr().(*net.UDPAddr).Port,
		Codecs: sdp.ParseCodecString("PCMU"), TelephoneEventPT: 101, Secure: sdp.ParseSecureMedia("true:AES_CM_128_HMAC_SHA1_80")})
	if err != nil {
		t.Fatal(err)
	}
	u.send(u.request("INVITE", target, "srtp1", 1, "Session-Expires: 1800\n", string(offer.SDP)))
	var res string
	for {
		res = u.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 18") {
			break
		}
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE: %q", res)
	}
	if !strings.Contains(header(res, "Session-Expires"), "1800") {
		t.Errorf("Session-Expires not echoed: %q", header(res, "Session-Expires"))
	}
	body := res[strings.Index(res, "\r\n\r\n")+4:]
	m, err := offer.ParseAnswer([]byte(body))
	if err != nil || m.Proto != "RTP/SAVP" || !m.Secure || strings.Count(body, "a=crypto:") != 1 {
		t.Fatalf("answer SDP: %v %q", err, body)
	}
	toTag := header(res, "To")
	ack := u.request("ACK", target, "srtp1", 1, "", "")
	ack = strings.Replace(ack, "To: <"+target+">", "To: "+toTag, 1)
	ack = strings.Replace(ack, "branch=z9hG4bKsrtp11", "branch=z9hG4bKsrtp1ack", 1) // a 2xx ACK is its own transaction
	u.send(ack)
	enc, _ := m.LocalKey.NewContext(false)
	dec, _ := m.RemoteKey.NewContext(true)
	dst := m.Remote
	got, total, decErr := 0, 0, 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		out := make([]byte, 2048)
		rtpC.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			n, _, err := rtpC.ReadFromUDP(buf)
			if err != nil {
				return
			}
			total++
			p, err := dec.DecryptRTP(out[:0], buf[:n], nil)
			if err != nil {
				decErr++
				continue
			}
			if len(p) > 12 && p[12] == 0x66 {
				got++
			}
		}
	}()
	pkt := make([]byte, 172)
	for i := 0; i < 50; i++ {
		pkt[0], pkt[1], pkt[2], pkt[3] = 0x80, 0, byte(i>>8), byte(i)
		ts := uint32(i * 160)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = 1, 2, 3, 4
		for j := 12; j < len(pkt); j++ {
			pkt[j] = 0x66
		}
		e, err := enc.EncryptRTP(nil, pkt, nil)
		if err != nil {
			t.Fatal(err)
		}
		rtpC.WriteToUDPAddrPort(e, dst)
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	if got < 25 {
		t.Errorf("SRTP echo: %d decryptable packets with our payload (%d received, %d decrypt errors)", got, total, decErr)
	}
	bye := u.request("BYE", target, "srtp1", 2, "", "")
	bye = strings.Replace(bye, "To: <"+target+">", "To: "+toTag, 1)
	u.send(bye)
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("BYE: %q", res)
	}
	var _ = srtp.ProtectionProfileAes128CmHmacSha1_80
}

// TestInDialogRequests: INFO dtmf-relay becomes a DTMF event, UPDATE without SDP gets 200,
// an out-of-order re-INVITE gets 500 with Retry-After.
func TestInDialogRequests(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "DTMF")
	defer sub.Close()
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n"
	u.send(u.request("INVITE", target, "dlg1", 5, "", sdp))
	var res string
	for res = u.recv(3 * time.Second); strings.HasPrefix(res, "SIP/2.0 18"); res = u.recv(3 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE: %q", res)
	}
	to := header(res, "To")
	inDialog := func(method string, cseq int, extra, body string) string {
		m := u.request(method, target, "dlg1", cseq, extra, body)
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bKdlg1", "branch=z9hG4bKdlg1"+method, 1)
	}
	u.send(inDialog("ACK", 5, "", ""))
	info := inDialog("INFO", 6, "", "")
	info = strings.Replace(info, "Content-Length: 0\n\n", "Content-Type: application/dtmf-relay\nContent-Length: 24\n\nSignal=7\nDuration=160\n", 1)
	u.send(info)
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("INFO: %q", res)
	}
	select {
	case e := <-sub.C():
		if e.Get("DTMF-Digit") != "7" {
			t.Errorf("DTMF event: %+v", e.Headers)
		}
	case <-time.After(2 * time.Second):
		t.Error("no DTMF event for INFO")
	}
	u.send(inDialog("UPDATE", 7, "", ""))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("UPDATE: %q", res)
	}
	pcma := strings.Replace(strings.Replace(sdp, "RTP/AVP 0 101", "RTP/AVP 8 101", 1), "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", 1)
	u.send(inDialog("INVITE", 8, "", pcma))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(res, "PCMA/8000") {
		t.Errorf("codec-change re-INVITE: %q", res)
	}
	u.send(strings.Replace(inDialog("ACK", 8, "", ""), "branch=z9hG4bKdlg1ACK", "branch=z9hG4bKdlg1ACK8", 1))
	if s := answeredInbound(env); s == nil {
		t.Errorf("no answered inbound call after the codec-change re-INVITE")
	} else if s.Var("read_codec") != "PCMA" {
		t.Errorf("codec after re-INVITE: %v", s.Var("read_codec"))
	}
	u.send(inDialog("INVITE", 3, "", sdp))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 500") || header(res, "Retry-After") == "" {
		t.Errorf("out-of-order re-INVITE: %q", res)
	}
	u.send(inDialog("ACK", 3, "", ""))
	u.send(inDialog("BYE", 9, "Reason: Q.850;cause=17;text=\"USER_BUSY\"\n", ""))
	if res = u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("BYE: %q", res)
	}
}

// TestSofiaProfileCommands: status layouts, rescan, stop and start.
func TestSofiaProfileCommands(t *testing.T) {
	env := newEnv(t, envOpt{})
	ctx := t.Context()
	out, _ := env.h.APIOutput(ctx, "sofia", "status")
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "                     Name\t   Type\t") || !strings.HasPrefix(lines[1], "=====") ||
		!strings.Contains(out, "internal\tprofile\t") || !strings.Contains(out, "RUNNING (0)") {
		t.Errorf("sofia status:\n%s", out)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "profile external rescan"); out != "Reload XML [Success]\n+OK scan complete\n" {
		t.Errorf("rescan: %q", out)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "profile external restart"); !strings.Contains(out, "at least 10 seconds") {
		t.Errorf("restart right after start: %q", out)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "profile external stop"); !strings.Contains(out, "stopping: external") {
		t.Errorf("stop: %q", out)
	}
	if _, ok := env.ep.Profile("external"); ok {
		t.Error("external still running")
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "profile external start"); !strings.Contains(out, "started successfully") {
		t.Errorf("start: %q", out)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "status profile nope"); out != "Invalid Profile [nope]\n" {
		t.Errorf("unknown profile: %q", out)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia_contact", "nobody@127.0.0.1"); out != "error/user_not_registered" {
		t.Errorf("sofia_contact: %q", out)
	}
}

// TestOutboundTLSWithSRTPAndAuth follows the seed trace's outbound leg: goswitch originates over
// TLS with SDES-SRTP to a registrar-protected profile (its own, in loopback), answers the 407
// with Proxy-Authorization from sip_auth_username/password, and the far side runs echo.
func TestOutboundTLSWithSRTPAndAuth(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: `<param name="tls" value="true"/>`})
	p, _ := env.ep.Profile("internal")
	dial := fmt.Sprintf("{sip_auth_username=1000,sip_auth_password=1234,rtp_secure_media=true,sip_h_X-Seed=1}sofia/internal/9196@%s;transport=tls", p.TLSAddr())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, dial, core.OriginateOptions{CallerIDNumber: "1000", CallerIDName: "seed"})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	if b.Var("rtp_has_crypto") == "" || b.Var("sip_via_protocol") != "tls" {
		t.Errorf("outbound leg: crypto=%q via=%q", b.Var("rtp_has_crypto"), b.Var("sip_via_protocol"))
	}
	in := findSession(env.h, func(s *core.Session) bool { return s.Direction() == core.Inbound })
	if in == nil {
		t.Fatal("no inbound leg")
	}
	if in.Var("sip_via_protocol") != "tls" || in.Var("sip_authorized") != "true" || in.Var("rtp_has_crypto") == "" || in.Var("sip_h_X-Seed") != "1" {
		t.Errorf("inbound leg: via=%q authorized=%q crypto=%q x-seed=%q", in.Var("sip_via_protocol"), in.Var("sip_authorized"), in.Var("rtp_has_crypto"), in.Var("sip_h_X-Seed"))
	}
	if cp := in.Profile(); cp.CallerIDName != "seed" || cp.CallerIDNumber != "1000" || in.Var("sip_Remote-Party-ID") == "" {
		t.Errorf("caller id from Remote-Party-ID: %q <%s>", cp.CallerIDName, cp.CallerIDNumber)
	}
	b.Hangup(core.CauseNormalClearing)
	waitFor(t, "both legs gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	if v := in.Var("sip_hangup_disposition"); v != "recv_bye" {
		t.Errorf("inbound disposition %q", v)
	}
}

// TestInboundFromGateway: an INVITE from the gateway's proxy address is tagged with the gateway
// (sip_gateway_name, CallsIN) and lands in the gateway's context.
func TestInboundFromGateway(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := newEnv(t, envOpt{gw: c.LocalAddr().String()})
	u := &rawUA{t: t, conn: c, dst: env.addr(t, "external")}
	target := "sip:9196@" + env.addr(t, "external").String()
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
	u.send(u.request("INVITE", target, "gwin1", 1, "", sdp))
	res := u.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE from gateway: %q", res)
	}
	ack := strings.Replace(u.request("ACK", target, "gwin1", 1, "", ""), "To: <"+target+">", "To: "+header(res, "To"), 1)
	u.send(strings.Replace(ack, "branch=z9hG4bKgwin11", "branch=z9hG4bKgwin1a", 1))
	waitFor(t, "answered", 3*time.Second, func() bool { return answeredInbound(env) != nil })
	if s := answeredInbound(env); s.Var("sip_gateway_name") != "gw1" {
		t.Errorf("sip_gateway_name = %q", s.Var("sip_gateway_name"))
	}
	g, _ := env.ep.Gateway("gw1")
	if g.callsIn.Load() != 1 {
		t.Errorf("CallsIN %d", g.callsIn.Load())
	}
	bye := strings.Replace(u.request("BYE", target, "gwin1", 2, "", ""), "To: <"+target+">", "To: "+header(res, "To"), 1)
	u.send(bye)
	u.recv(2 * time.Second)
}

// TestLateOffer: an INVITE without SDP gets our offer in the 200; the ACK's SDP is the answer.
func TestLateOffer(t *testing.T) {
	env := newEnv(t, envOpt{})
	peer := newRTPPeer(t)
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	u.send(u.request("INVITE", target, "late1", 1, "", ""))
	res := u.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(res, "m=audio ") {
		t.Fatalf("late offer 200: %q", res)
	}
	// The UA answers our offer with core/sdp, PCMU only.
	answer, offer, err := sdp.Answer([]byte(res[strings.Index(res, "\r\n\r\n")+4:]), sdp.Config{IP: netip.MustParseAddr("127.0.0.1"),
		Port: peer.port(), Codecs: sdp.ParseCodecString("PCMU")})
	if err != nil {
		t.Fatal(err)
	}
	ack := strings.Replace(u.request("ACK", target, "late1", 1, "", string(answer)), "To: <"+target+">", "To: "+header(res, "To"), 1)
	u.send(strings.Replace(ack, "branch=z9hG4bKlate11", "branch=z9hG4bKlate1a", 1))
	waitFor(t, "answered", 3*time.Second, func() bool { return answeredInbound(env) != nil })
	peer.send(offer.Remote, 0, 0x5a, 40)
	time.Sleep(200 * time.Millisecond)
	if _, seen := peer.received(); seen[0x5a] < 20 {
		t.Errorf("echo after late offer: %v", seen)
	}
	bye := strings.Replace(u.request("BYE", target, "late1", 2, "", ""), "To: <"+target+">", "To: "+header(res, "To"), 1)
	u.send(bye)
	u.recv(2 * time.Second)
}

// TestRespondAndRedirectApps: respond 404 sends exactly that; redirect sends 302 with Contact.
func TestRespondAndRedirectApps(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "external"))
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
	t404 := "sip:5002@" + env.addr(t, "external").String()
	u.send(u.request("INVITE", t404, "resp1", 1, "", sdp))
	if res := u.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 404 Nobody Here") {
		t.Errorf("respond: %q", res)
	}
	waitFor(t, "refused call gone", 3*time.Second, func() bool { return env.h.SessionCount() == 0 }) // even without our ACK
	t302 := "sip:5003@" + env.addr(t, "external").String()
	u.send(u.request("INVITE", t302, "redir1", 1, "", sdp))
	if res := u.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 302") || !strings.Contains(header(res, "Contact"), "sip:9196@127.0.0.1") {
		t.Errorf("redirect: %q", res)
	}
}

// TestForkedAnswersAckedAndByed: the far end (a forking proxy, played by the test) answers the
// INVITE from two branches; the first 2xx makes the dialog, the second is ACKed and BYEd.
func TestForkedAnswersAckedAndByed(t *testing.T) {
	env := newEnv(t, envOpt{})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type seenMsg struct{ method, toTag string }
	msgs := make(chan seenMsg, 16)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m := string(buf[:n])
			method, _, _ := strings.Cut(m, " ")
			to := header(m, "To")
			_, tag, _ := strings.Cut(to, "tag=")
			switch method {
			case "INVITE":
				base := func(tag string) string {
					sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
					return fmt.Sprintf("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: %s\r\nContact: <sip:fork-%s@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
						header(m, "Via"), header(m, "From"), to, tag, header(m, "Call-ID"), header(m, "CSeq"), tag, c.LocalAddr(), len(sdp), sdp)
				}
				c.WriteToUDPAddrPort([]byte(base("branchA")), from)
				time.Sleep(50 * time.Millisecond)
				c.WriteToUDPAddrPort([]byte(base("branchB")), from)
			case "BYE":
				res := fmt.Sprintf("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
					header(m, "Via"), header(m, "From"), to, header(m, "Call-ID"), header(m, "CSeq"))
				c.WriteToUDPAddrPort([]byte(res), from)
				msgs <- seenMsg{method, tag}
			case "ACK":
				msgs <- seenMsg{method, tag}
			}
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, "sofia/external/fork@"+c.LocalAddr().String(), core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	deadline := time.After(3 * time.Second)
	for !(got["ACK branchA"] && got["ACK branchB"] && got["BYE branchB"]) {
		select {
		case m := <-msgs:
			got[m.method+" "+m.toTag] = true
		case <-deadline:
			t.Fatalf("forked 2xx handling, saw %v", got)
		}
	}
	if got["BYE branchA"] {
		t.Error("the established dialog was torn down")
	}
	b.Hangup(core.CauseNormalClearing)
	waitFor(t, "leg gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestCallTableEmptiesAfterCalls: dialogs leave the profile's table however they end.
func TestCallTableEmptiesAfterCalls(t *testing.T) {
	env := newEnv(t, envOpt{})
	p, _ := env.ep.Profile("internal")
	dial := fmt.Sprintf("{sip_auth_username=1000,sip_auth_password=1234}sofia/internal/9196@%s", p.Addr())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, dial, core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	// The far (inbound) side hangs up: the outbound leg receives BYE.
	in := findSession(env.h, func(s *core.Session) bool { return s.Direction() == core.Inbound })
	in.Hangup(core.CauseNormalClearing)
	waitFor(t, "both legs gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	if b.Var("sip_hangup_disposition") != "recv_bye" {
		t.Errorf("outbound disposition %q", b.Var("sip_hangup_disposition"))
	}
	waitFor(t, "call table empty", 2*time.Second, func() bool {
		n := 0
		p.calls.Range(func(_, _ any) bool { n++; return true })
		return n == 0
	})
}

// TestACLRefusals: apply-register-acl and apply-inbound-acl (without auth-calls) refuse
// sources outside the list with 403.
func TestACLRefusals(t *testing.T) {
	env := newEnv(t, envOpt{externalExtra: `<param name="apply-register-acl" value="trusted"/><param name="apply-inbound-acl" value="trusted"/>`})
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	u.send(u.request("REGISTER", "sip:"+env.addr(t, "external").String(), "acl-reg", 1, "", ""))
	if res := u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Errorf("REGISTER from outside the register acl: %q", res)
	}
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
	u.send(u.request("INVITE", target, "acl-inv", 1, "", sdp))
	if res := u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Errorf("INVITE from outside the inbound acl: %q", res)
	}
	u.send(u.request("ACK", target, "acl-inv", 1, "", ""))
}

// TestDialStringErrors: bad sofia targets fail with FreeSWITCH's causes.
func TestDialStringErrors(t *testing.T) {
	env := newEnv(t, envOpt{})
	cases := map[string]core.Cause{
		"sofia/internal/1003%127.0.0.1":                core.CauseUserNotRegistered,
		"sofia/nosuchprofile/1000@1.2.3.4":             core.CauseInvalidProfile,
		"sofia/gateway/nogw/1234":                      core.CauseInvalidGateway,
		"sofia/internal/1000@127.0.0.1;transport=sctp": core.CauseInvalidURL,
	}
	for dial, want := range cases {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		_, err := env.h.Originate(ctx, dial, core.OriginateOptions{})
		cancel()
		var ce *core.CallError
		if !errors.As(err, &ce) || ce.Cause != want {
			t.Errorf("%s: %v, want %s", dial, err, want)
		}
	}
}

// TestSessionTimerRefresh: the UAS picks us (uac) as refresher; we re-INVITE at half time and the
// call outlives several intervals; the UAS side's expiry timer never fires.
func TestSessionTimerRefresh(t *testing.T) {
	env := newEnv(t, envOpt{
		internalExtra: `<param name="minimum-session-expires" value="2"/>`,
		externalExtra: `<param name="session-timeout" value="2"/>`,
	})
	p, _ := env.ep.Profile("internal")
	dial := fmt.Sprintf("{sip_auth_username=1000,sip_auth_password=1234}sofia/external/9196@%s", p.Addr())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := env.h.Originate(ctx, dial, core.OriginateOptions{CallerIDNumber: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4500 * time.Millisecond)
	if b.HungUp() || env.h.SessionCount() != 2 {
		t.Fatalf("call ended despite refreshes: hungup=%v sessions=%d cause=%s", b.HungUp(), env.h.SessionCount(), b.HangupCause())
	}
	b.Hangup(core.CauseNormalClearing)
	waitFor(t, "legs gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
