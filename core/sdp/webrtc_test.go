package sdp

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// chromeOffer is the shape of Chrome's audio+video offer: BUNDLE, extmap, rtcp-fb, msid, ssrc
// lines, opus first, c=0.0.0.0-less host candidates.
const chromeOffer = `v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS stream1
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1 1 udp 2122260223 192.168.1.10 54400 typ host generation 0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=ice-options:trickle
a=fingerprint:sha-256 DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:stream1 track1
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:abcd
a=ssrc:3735928559 msid:stream1 track1
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=fingerprint:sha-256 DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF
a=setup:actpass
a=mid:1
a=sendrecv
a=rtcp-mux
a=rtpmap:96 VP8/90000
`

func webrtcCfg() Config {
	return Config{IP: netip.MustParseAddr("127.0.0.1"), Port: 20000, Codecs: ParseCodecString("PCMU,PCMA"),
		TelephoneEventPT: 101, Supported: supported, WebRTC: &WebRTCLocal{Ufrag: "uf12", Pwd: "pwpwpwpwpwpwpwpwpwpwpwpw", Fingerprint: "sha-256 AA:BB"}}
}

func TestAnswerChromeOffer(t *testing.T) {
	for _, sec := range []string{"", "mandatory:AES_CM_128_HMAC_SHA1_80", "optional"} {
		cfg := webrtcCfg()
		cfg.Secure = ParseSecureMedia(sec)
		ans, r, err := Answer([]byte(chromeOffer), cfg)
		if err != nil {
			t.Fatalf("rtp_secure_media=%q: %v", sec, err)
		}
		s := string(ans)
		for _, want := range []string{"m=audio 20000 UDP/TLS/RTP/SAVPF 0 126", "a=ice-lite", "a=group:BUNDLE 0\r\n",
			"a=mid:0", "a=ice-ufrag:uf12", "a=setup:passive", "a=fingerprint:sha-256 AA:BB", "a=rtcp-mux",
			"a=candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host", "m=video 0 UDP/TLS/RTP/SAVPF 96"} {
			if !strings.Contains(s, want) {
				t.Errorf("answer lacks %q:\n%s", want, s)
			}
		}
		if strings.Contains(s, "a=crypto") {
			t.Errorf("DTLS answer carries a=crypto:\n%s", s)
		}
		w := r.WebRTC
		if w == nil || w.Ufrag != "EsAw" || w.Setup != "actpass" || w.DTLSClient() || !w.RTCPMux || w.Mid != "0" ||
			!strings.HasPrefix(w.Fingerprint, "sha-256 DA:39") {
			t.Fatalf("remote WebRTC %+v", w)
		}
		if r.Hold || r.Direction.String() != "sendrecv" {
			t.Errorf("c=0.0.0.0 of a WebRTC line taken as hold: %v %s", r.Hold, r.Direction)
		}
		if r.RemoteRTCP != r.Remote || r.Secure {
			t.Errorf("rtcp %s remote %s secure %v", r.RemoteRTCP, r.Remote, r.Secure)
		}
		if r.Vars()["media_webrtc"] != "true" {
			t.Error("no media_webrtc var")
		}
	}
}

// A leg without a WebRTC agent refuses DTLS lines (488), and a passive offerer makes us active.
func TestWebRTCAnswerRoles(t *testing.T) {
	cfg := webrtcCfg()
	cfg.WebRTC = nil
	if _, _, err := Answer([]byte(chromeOffer), cfg); !errors.Is(err, ErrNotAcceptable) {
		t.Fatalf("plain leg answered a DTLS offer: %v", err)
	}
	passive := strings.ReplaceAll(chromeOffer, "a=setup:actpass", "a=setup:passive")
	ans, r, err := Answer([]byte(passive), webrtcCfg())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ans), "a=setup:active") || !r.WebRTC.DTLSClient() {
		t.Fatalf("passive offer: we must be the active DTLS client:\n%s", ans)
	}
}

// Our WebRTC offer: one SAVPF line, actpass, no crypto; a re-offer keeps the role.
func TestWebRTCOfferAndReoffer(t *testing.T) {
	o, err := BuildOffer(webrtcCfg())
	if err != nil {
		t.Fatal(err)
	}
	s := string(o.SDP)
	if strings.Count(s, "m=audio") != 1 || !strings.Contains(s, "UDP/TLS/RTP/SAVPF") || !strings.Contains(s, "a=setup:actpass") ||
		strings.Contains(s, "a=crypto") || !strings.Contains(s, "a=ice-lite") {
		t.Fatalf("offer:\n%s", s)
	}
	ans := strings.ReplaceAll(strings.ReplaceAll(chromeOffer, "a=setup:actpass", "a=setup:active"), "m=video 9", "m=video 0")
	r, err := o.ParseAnswer([]byte(ans))
	if err != nil {
		t.Fatal(err)
	}
	if r.WebRTC.LocalSetup != "passive" || r.WebRTC.DTLSClient() {
		t.Fatalf("answer active: we are passive, got %+v", r.WebRTC)
	}
	re, err := Reoffer(webrtcCfg(), r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(re.SDP), "a=setup:passive") || !strings.Contains(string(re.SDP), "UDP/TLS/RTP/SAVPF") {
		t.Fatalf("re-offer lost the DTLS role or transport:\n%s", re.SDP)
	}
}
