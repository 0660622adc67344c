package webrtc_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/sdp"
	"github.com/goswitch/goswitch/core/webrtc"
	"github.com/goswitch/goswitch/internal/webrtcpeer"
)

var lo = netip.MustParseAddr("127.0.0.1")

// leg is goswitch's side: an RTP port with its WebRTC session, negotiated as the SIP
// endpoint does it.
type leg struct {
	port *rtp.RTPPort
	sess *webrtc.Session
	res  *sdp.Result
}

func newLeg(t *testing.T, cfg webrtc.Config) *leg {
	t.Helper()
	port, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := webrtc.New(port, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := &leg{port: port, sess: sess}
	t.Cleanup(func() { sess.Close(); port.Close() })
	return l
}

func (l *leg) sdpConfig() sdp.Config {
	loc := l.sess.Local()
	return sdp.Config{IP: lo, Port: int(l.port.LocalAddr().Port()), Codecs: sdp.ParseCodecString("PCMU"),
		WebRTC: &sdp.WebRTCLocal{Ufrag: loc.Ufrag, Pwd: loc.Pwd, Fingerprint: loc.Fingerprint}}
}

func (l *leg) apply(t *testing.T, r *sdp.Result) {
	t.Helper()
	l.res = r
	if r.WebRTC == nil {
		t.Fatal("result has no WebRTC part")
	}
	l.port.SetRemote(r.Remote, r.RemoteRTCP)
	if err := l.port.SetCodec(r.Codec, r.TelephoneEventPT); err != nil {
		t.Fatal(err)
	}
	w := r.WebRTC
	if err := l.sess.Start(webrtc.Remote{Ufrag: w.Ufrag, Pwd: w.Pwd, Fingerprint: w.Fingerprint, Setup: w.Setup},
		w.DTLSClient()); err != nil {
		t.Fatal(err)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// The browser offers, goswitch answers passive and echoes: the peer hears its own tone back
// through ICE-lite, DTLS-SRTP keys in the port's SRTP contexts and the ordinary echo relay.
func TestBrowserOffersEcho(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	p, err := webrtcpeer.New(webrtcpeer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := newLeg(t, webrtc.Config{})
	answer, r, err := sdp.Answer([]byte(offer), l.sdpConfig())
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, offer)
	}
	for _, want := range []string{"a=ice-lite", "a=setup:passive", "a=fingerprint:sha-256 ", "a=rtcp-mux",
		"a=group:BUNDLE ", "UDP/TLS/RTP/SAVPF 0", "typ host"} {
		if !strings.Contains(string(answer), want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
	l.apply(t, r)
	stop := l.port.Echo()
	defer stop()
	if err := p.SetAnswer(string(answer)); err != nil {
		t.Fatal(err)
	}
	p.SendTone(1000)
	if err := p.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.sess.Keyed():
	case <-ctx.Done():
		t.Fatalf("no keys: %v", l.sess.Err())
	}
	if err := p.WaitTone(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if !l.port.Secure() || l.sess.Profile() == "" {
		t.Fatalf("port not SRTP after DTLS (profile %q)", l.sess.Profile())
	}
	if st := l.port.Stats(); st.DecryptErrors != 0 {
		t.Errorf("%d SRTP decrypt errors", st.DecryptErrors)
	}
	t.Logf("profile %s, selected %s, %s", l.sess.Profile(), l.sess.Selected(), l.port)
}

// goswitch offers actpass; the browser answers active (Chrome: goswitch is the DTLS server) or
// passive (pion's default: goswitch is the client).
func TestGoswitchOffers(t *testing.T) {
	for _, answerActive := range []bool{true, false} {
		t.Run(map[bool]string{true: "answer=active", false: "answer=passive"}[answerActive], func(t *testing.T) {
			ctx := ctxT(t, 20*time.Second)
			l := newLeg(t, webrtc.Config{})
			off, err := sdp.BuildOffer(l.sdpConfig())
			if err != nil {
				t.Fatal(err)
			}
			p, err := webrtcpeer.New(webrtcpeer.Options{AnswerActive: answerActive})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ans, err := p.Answer(ctx, string(off.SDP))
			if err != nil {
				t.Fatalf("pion rejects our offer: %v\n%s", err, off.SDP)
			}
			r, err := off.ParseAnswer([]byte(ans))
			if err != nil {
				t.Fatalf("%v\n%s", err, ans)
			}
			if want := !answerActive; r.WebRTC.DTLSClient() != want {
				t.Fatalf("DTLS client = %v, want %v (answer setup %q)", r.WebRTC.DTLSClient(), want, r.WebRTC.Setup)
			}
			l.apply(t, r)
			stop := l.port.Echo()
			defer stop()
			p.SendTone(700)
			if err := p.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitTone(ctx, 700); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A certificate that is not the one a=fingerprint names: no keys, OnFailed, no audio.
func TestWrongFingerprint(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	p, err := webrtcpeer.New(webrtcpeer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	l := newLeg(t, webrtc.Config{OnFailed: func(err error) { failed <- err }})
	answer, r, err := sdp.Answer([]byte(offer), l.sdpConfig())
	if err != nil {
		t.Fatal(err)
	}
	fp := []byte(r.WebRTC.Fingerprint)
	if fp[len(fp)-1] == '0' {
		fp[len(fp)-1] = '1'
	} else {
		fp[len(fp)-1] = '0'
	}
	r.WebRTC.Fingerprint = string(fp)
	l.apply(t, r)
	stop := l.port.Echo()
	defer stop()
	if err := p.SetAnswer(string(answer)); err != nil {
		t.Fatal(err)
	}
	p.SendTone(1000)
	select {
	case err := <-failed:
		if !strings.Contains(err.Error(), "fingerprint") {
			t.Errorf("failure %v does not name the fingerprint", err)
		}
	case <-ctx.Done():
		t.Fatal("handshake with a wrong fingerprint did not fail")
	}
	if l.port.Secure() {
		t.Fatal("keys installed despite the wrong fingerprint")
	}
	if n := p.Received(); n != 0 {
		t.Fatalf("peer received %d packets", n)
	}
}

// Checks from an address AllowPeer refuses (apply-candidate-acl) are not answered: the browser's
// ICE fails and no pair is selected.
func TestAllowPeerRefusesChecks(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	p, err := webrtcpeer.New(webrtcpeer.Options{FailAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := newLeg(t, webrtc.Config{AllowPeer: func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.2") }})
	answer, r, err := sdp.Answer([]byte(offer), l.sdpConfig())
	if err != nil {
		t.Fatal(err)
	}
	l.apply(t, r)
	if err := p.SetAnswer(string(answer)); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitConnected(ctx); err == nil {
		t.Fatal("connected although every check came from a refused address")
	}
	if sel := l.sess.Selected(); sel.IsValid() {
		t.Fatalf("pair %s selected", sel)
	}
}
