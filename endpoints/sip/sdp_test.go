package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/sdp"
)

// rawInvite sends an INVITE with body and returns the final response (provisionals skipped)
// and a helper building in-dialog requests.
func rawInvite(t *testing.T, u *rawUA, target, callID, body string) (string, func(method string, cseq int, body string) string) {
	t.Helper()
	u.send(u.request("INVITE", target, callID, 1, "", body))
	res := u.recv(3 * time.Second)
	for strings.HasPrefix(res, "SIP/2.0 18") {
		res = u.recv(3 * time.Second)
	}
	to := header(res, "To")
	return res, func(method string, cseq int, body string) string {
		m := u.request(method, target, callID, cseq, "", body)
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bK"+callID, fmt.Sprintf("branch=z9hG4bK%s%s%d", callID, method, cseq), 1)
	}
}

func sipBody(msg string) string {
	if i := strings.Index(msg, "\r\n\r\n"); i >= 0 {
		return msg[i+4:]
	}
	return ""
}

// TestInboundAnswerFollowsDialplan: the inbound answer is negotiated again when the dialplan
// sets absolute_codec_string/codec_string before answer (FreeSWITCH's late negotiation), and a
// setting that rules the offer out ends in 488; extra m-lines are refused with port 0.
func TestInboundAnswerFollowsDialplan(t *testing.T) {
	env := newEnv(t, envOpt{})
	offer := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\nm=video 40002 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
	tests := []struct {
		dest, status string
		lines        []string
	}{
		{"9196", "200", []string{"m=audio ", " RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "m=video 0 RTP/AVP 96"}},
		{"9197", "200", []string{" RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "m=video 0 RTP/AVP 96"}},
		{"9198", "488", nil},
	}
	for i, tt := range tests {
		t.Run(tt.dest, func(t *testing.T) {
			u := newRawUA(t, env.addr(t, "external"))
			target := "sip:" + tt.dest + "@" + env.addr(t, "external").String()
			callID := fmt.Sprintf("dpc%d", i)
			res, inDialog := rawInvite(t, u, target, callID, offer)
			if !strings.HasPrefix(res, "SIP/2.0 "+tt.status) {
				t.Fatalf("INVITE: %q", res)
			}
			body := sipBody(res)
			for _, l := range tt.lines {
				if !strings.Contains(body, l) {
					t.Errorf("answer lacks %q:\n%s", l, body)
				}
			}
			if tt.status != "200" { // the ACK of a non-2xx belongs to the INVITE transaction
				u.send(strings.Replace(u.request("ACK", target, callID, 1, "", ""), "To: <"+target+">", "To: "+header(res, "To"), 1))
				return
			}
			u.send(inDialog("ACK", 1, ""))
			u.send(inDialog("BYE", 2, ""))
			if res := u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
				t.Errorf("BYE: %q", res)
			}
		})
	}
	waitFor(t, "calls gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestDualOfferAndSecureHold: FreeSWITCH's dual offer (RTP/SAVP + RTP/AVP on one port) is
// answered on the SAVP line with the AVP line refused; a hold re-INVITE keeps codec, transport
// and our SRTP key, so neither side re-keys.
func TestDualOfferAndSecureHold(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, "CHANNEL_HOLD", "CHANNEL_UNHOLD")
	defer sub.Close()
	peer := newRTPPeer(t)
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	ucfg := sdp.Config{IP: netip.MustParseAddr("127.0.0.1"), Port: peer.port(), SessionID: 7, Version: 7,
		Codecs: sdp.ParseCodecString("PCMA,PCMU"), TelephoneEventPT: 101, Secure: sdp.ParseSecureMedia("optional")}
	offer, err := sdp.BuildOffer(ucfg)
	if err != nil {
		t.Fatal(err)
	}
	res, inDialog := rawInvite(t, u, target, "dual1", string(offer.SDP))
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE: %q", res)
	}
	body := sipBody(res)
	cur, err := offer.ParseAnswer([]byte(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if !cur.Secure || cur.Proto != "RTP/SAVP" || cur.Codec.Name != "PCMA" || cur.TelephoneEventPT != 101 ||
		!strings.Contains(body, "m=audio 0 RTP/AVP") {
		t.Fatalf("answer to dual offer %+v:\n%s", cur, body)
	}
	u.send(inDialog("ACK", 1, ""))
	waitFor(t, "answered", 3*time.Second, func() bool { return answeredInbound(env) != nil })
	s := answeredInbound(env)
	if s.Var("rtp_secure_media_confirmed") != "true" || s.Var("rtp_has_crypto") != cur.Suite || s.Var("rtp_use_codec_name") != "PCMA" {
		t.Errorf("vars: confirmed=%q crypto=%q codec=%q", s.Var("rtp_secure_media_confirmed"), s.Var("rtp_has_crypto"), s.Var("rtp_use_codec_name"))
	}

	for i, dir := range []media.Direction{media.SendOnly, media.SendRecv} {
		ucfg.Version++
		ucfg.Direction = dir
		re, err := sdp.Reoffer(ucfg, cur)
		if err != nil {
			t.Fatal(err)
		}
		cseq := 2 + i
		u.send(inDialog("INVITE", cseq, string(re.SDP)))
		res := u.recv(3 * time.Second)
		if !strings.HasPrefix(res, "SIP/2.0 200") {
			t.Fatalf("re-INVITE %v: %q", dir, res)
		}
		u.send(inDialog("ACK", cseq, ""))
		r, err := re.ParseAnswer([]byte(sipBody(res)))
		if err != nil {
			t.Fatalf("re-INVITE answer: %v\n%s", err, sipBody(res))
		}
		if !r.Secure || string(r.RemoteKey.Key) != string(cur.RemoteKey.Key) || r.Direction != dir || r.Codec.Name != "PCMA" {
			t.Errorf("re-INVITE %v: secure %v same key %v dir %v codec %s", dir, r.Secure,
				string(r.RemoteKey.Key) == string(cur.RemoteKey.Key), r.Direction, r.Codec.Name)
		}
		want := "CHANNEL_HOLD"
		if dir == media.SendRecv {
			want = "CHANNEL_UNHOLD"
		}
		select {
		case e := <-sub.C():
			if e.Name != want {
				t.Errorf("event %s, want %s", e.Name, want)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("no %s", want)
		}
	}
	u.send(inDialog("BYE", 9, ""))
	if res := u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Errorf("BYE: %q", res)
	}
}

// TestOriginateSecureMediaPolicies: rtp_secure_media on an outbound leg chooses the offer (dual
// SAVP+AVP for optional, SAVP only for true, plain otherwise) and our inbound profile answers it.
func TestOriginateSecureMediaPolicies(t *testing.T) {
	env := newEnv(t, envOpt{})
	addr := env.addr(t, "internal")
	for _, tt := range []struct {
		vars, uri string
		secure    bool
	}{{"rtp_secure_media=optional", "", true}, {"rtp_secure_media=true:AES_CM_128_HMAC_SHA1_32", "", true},
		{"rtp_secure_media=forbidden", "", false}, {"rtp_secure_media_outbound=optional,rtp_secure_media=false", "", true},
		// Over TCP the offers are FreeSWITCH's: dual SAVP+AVP, and every suite.
		{"rtp_secure_media=optional", ";transport=tcp", true}, {"rtp_secure_media=true", ";transport=tcp", true}} {
		t.Run(tt.vars+tt.uri, func(t *testing.T) {
			dial := fmt.Sprintf("{sip_auth_username=1000,sip_auth_password=1234,%s}sofia/internal/9196@%s%s", tt.vars, addr, tt.uri)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			b, err := env.h.Originate(ctx, dial, core.OriginateOptions{CallerIDNumber: "1000"})
			if err != nil {
				t.Fatalf("originate: %v", err)
			}
			in := findSession(env.h, func(s *core.Session) bool { return s.Direction() == core.Inbound })
			if in == nil {
				t.Fatal("no inbound leg")
			}
			for _, s := range []*core.Session{b, in} {
				if got := s.Var("rtp_secure_media_confirmed") == "true"; got != tt.secure {
					t.Errorf("%s: rtp_secure_media_confirmed=%q", s.Direction(), s.Var("rtp_secure_media_confirmed"))
				}
			}
			if tt.uri != "" && b.Var("rtp_secure_media_negotiated") != "AEAD_AES_256_GCM" {
				t.Errorf("TCP offer should lead with FreeSWITCH's first suite: %q", b.Var("rtp_secure_media_negotiated"))
			}
			if strings.HasSuffix(tt.vars, "SHA1_32") && b.Var("rtp_secure_media_negotiated") != "AES_CM_128_HMAC_SHA1_32" {
				t.Errorf("suite %q", b.Var("rtp_secure_media_negotiated"))
			}
			b.Hangup(core.CauseNormalClearing)
			waitFor(t, "both legs gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
		})
	}
}
