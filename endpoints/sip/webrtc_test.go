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

// uas is a raw SIP phone on UDP: it answers one INVITE with the SDP its body func makes, then
// answers every BYE, until the test ends.
type uas struct {
	u     *rawUA
	offer chan string // the INVITE's SDP
	err   chan error
}

func newUAS(t *testing.T) *uas {
	return &uas{u: newRawUA(t, netip.AddrPort{}), offer: make(chan string, 1), err: make(chan error, 1)}
}

// serve runs in its own goroutine: failures go to a.err, not t.
func (a *uas) serve(dst netip.AddrPort, body func(offer string) (string, error)) {
	a.u.dst = dst
	var inv string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && inv == ""; {
		if m := a.u.recv(time.Until(deadline)); strings.HasPrefix(m, "INVITE ") {
			inv = m
		}
	}
	if inv == "" {
		a.err <- fmt.Errorf("no INVITE reached the far phone")
		return
	}
	a.offer <- sdpBody(inv)
	sdp, err := body(sdpBody(inv))
	if err != nil {
		a.err <- err
		return
	}
	a.u.conn.WriteToUDPAddrPort([]byte(strings.ReplaceAll(reply(inv, fmt.Sprintf("Contact: <sip:far@127.0.0.1:%d>\n", a.u.port()), lf(sdp)), "\n", "\r\n")), dst)
	a.err <- nil
	for {
		m := a.u.recv(30 * time.Second)
		if m == "" {
			return // socket closed with the test, or idle
		}
		if strings.HasPrefix(m, "BYE ") {
			a.u.conn.WriteToUDPAddrPort([]byte(strings.ReplaceAll(reply(m, "", ""), "\n", "\r\n")), dst)
		}
	}
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

// sdpMediaAddr is the c=/m=audio address of an SDP.
func sdpMediaAddr(sdp string) netip.AddrPort {
	var ip, port string
	for _, l := range strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "c=IN" {
			ip = f[2]
		} else if len(f) > 1 && f[0] == "m=audio" {
			port = f[1]
		}
	}
	a, _ := netip.ParseAddrPort(ip + ":" + port)
	return a
}

// plainPhone is a PCMU phone's media: a tone sent every 20 ms to the far address, and what
// comes back decoded.
type plainPhone struct {
	rec  *rtpRecorder
	stop chan struct{}
	done chan struct{}
}

func (ph *plainPhone) sdp() string {
	return "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio " + itoa(ph.rec.port()) +
		" RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=ptime:20\na=sendrecv\n"
}

func (ph *plainPhone) sendTone(dst netip.AddrPort, hz float64) {
	ph.stop, ph.done = make(chan struct{}), make(chan struct{})
	c, _ := media.LookupCodec("PCMU", 8000, 1)
	enc := c.NewEncoder()
	go func() {
		defer close(ph.done)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		pcm, pay := make([]int16, 160), make([]byte, 160)
		for i := 0; ; i++ {
			for j := range pcm {
				pcm[j] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i*160+j)/8000))
			}
			enc.Encode(pay, pcm)
			ph.rec.send(dst, uint16(i), uint32(160*i), pay)
			select {
			case <-ph.stop:
				return
			case <-tk.C:
			}
		}
	}()
}

func (ph *plainPhone) close() {
	if ph.stop != nil {
		close(ph.stop)
		<-ph.done
	}
}

// heard reports whether the last 200 ms the phone received are mostly a tone of hz.
func (ph *plainPhone) heard(hz float64) bool {
	got := ph.rec.received()
	if len(got) < 10 {
		return false
	}
	c, _ := media.LookupCodec("PCMU", 8000, 1)
	dec := c.NewDecoder()
	var pcm []int16
	buf := make([]int16, 480)
	for _, p := range got[len(got)-10:] {
		n, _ := dec.Decode(buf, p.payload)
		pcm = append(pcm, buf[:n]...)
	}
	return toneShare(pcm, hz) > 0.6
}

// TestWebRTCBridgedToPlainRTP: the browser calls a plain RTP/PCMU phone through a bridge; each
// hears the other's tone. One leg is SRTP keyed by DTLS, the other plain RTP: goswitch relays
// PCMU between them, decrypting on one side, without transcoding.
func TestWebRTCBridgedToPlainRTP(t *testing.T) {
	far := newUAS(t)
	env := newEnv(t, envOpt{defaultExtra: `<extension name="plainphone"><condition field="destination_number" expression="^1099$">
      <action application="bridge" data="sofia/external/far@127.0.0.1:` + itoa(far.u.port()) + `"/></condition></extension>`})
	ph := &plainPhone{rec: newRTPRecorder(t)}
	defer ph.close()
	go far.serve(env.addr(t, "external"), func(string) (string, error) { return ph.sdp(), nil })
	p := newPeer(t, webrtcpeer.Options{})
	_, answer, hangup := webrtcCall(t, env, p, "pub1099", nil)
	if err := <-far.err; err != nil {
		t.Fatal(err)
	}
	ph.sendTone(sdpMediaAddr(<-far.offer), 500)
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	p.SendTone(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.WaitTone(ctx, 500); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "phone hears the browser's 1 kHz", 10*time.Second, func() bool { return ph.heard(1000) })
	if s := answeredInbound(env); s != nil {
		if d := s.Port().String(); !strings.Contains(d, "srtp") || !strings.Contains(d, "relay") {
			t.Errorf("browser leg is not an SRTP relay: %s", d)
		}
	}
	hangup()
	waitFor(t, "calls gone", 10*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestWebRTCOfferToBrowser: a plain phone calls a destination bridged with media_webrtc=true;
// goswitch offers UDP/TLS/RTP/SAVPF (actpass, ICE-lite) to the browser, which answers, and
// audio flows both ways.
func TestWebRTCOfferToBrowser(t *testing.T) {
	br := newUAS(t)
	env := newEnv(t, envOpt{defaultExtra: `<extension name="browser"><condition field="destination_number" expression="^1098$">
      <action application="bridge" data="{media_webrtc=true}sofia/external/browser@127.0.0.1:` + itoa(br.u.port()) + `"/></condition></extension>`})
	p := newPeer(t, webrtcpeer.Options{AnswerActive: true})
	go br.serve(env.addr(t, "external"), func(offer string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return p.Answer(ctx, offer)
	})
	ph := &plainPhone{rec: newRTPRecorder(t)}
	defer ph.close()
	dst, hangup := callWithPtime(t, env, "pub1098", ph.rec, 20)
	if err := <-br.err; err != nil {
		t.Fatal(err)
	}
	offer := <-br.offer
	for _, want := range []string{"UDP/TLS/RTP/SAVPF", "a=ice-lite", "a=setup:actpass", "a=fingerprint:sha-256 ", "a=rtcp-mux"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	ph.sendTone(dst, 400)
	p.SendTone(700)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.WaitTone(ctx, 400); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "phone hears the browser's 700 Hz", 10*time.Second, func() bool { return ph.heard(700) })
	hangup()
	waitFor(t, "calls gone", 10*time.Second, func() bool { return env.h.SessionCount() == 0 })
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

// TestWebRTCCandidateACL: with apply-candidate-acl naming a list that refuses the browser's
// address, goswitch answers none of its checks and ICE never connects.
func TestWebRTCCandidateACL(t *testing.T) {
	env := newEnv(t, envOpt{externalExtra: `<param name="apply-candidate-acl" value="trusted"/>`})
	p := newPeer(t, webrtcpeer.Options{FailAfter: 2 * time.Second})
	_, answer, hangup := webrtcCall(t, env, p, "9196", nil)
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.WaitConnected(ctx); err == nil {
		t.Fatal("ICE connected from 127.0.0.1, which apply-candidate-acl=trusted refuses")
	}
	hangup()
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
