package sip

import (
	"strings"
	"testing"

	"github.com/goswitch/goswitch/core/sdp"
)

func TestCustomHeadersRejectInjection(t *testing.T) {
	hdrs, err := customHeaders([][2]string{
		{"sip_h_X-Good", "fine value"},
		{"sip_h_X-Evil", "a\r\nVia: SIP/2.0/UDP evil"},
		{"sip_h_X-Nul", "a\x00b"},
		{"sip_h_Via", "SIP/2.0/UDP 1.2.3.4"},
		{"sip_h_Bad Name", "x"},
		{"other", "x"},
	})
	if err == nil {
		t.Error("expected an error for unsafe headers")
	}
	if len(hdrs) != 1 || hdrs[0].Name() != "X-Good" || hdrs[0].Value() != "fine value" {
		t.Errorf("headers = %v", hdrs)
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in, host, user, transport string
		port                      int
		ok                        bool
	}{
		{"1000@127.0.0.1:5062", "127.0.0.1", "1000", "", 5062, true},
		{"sip:1001@10.0.0.1;transport=tcp", "10.0.0.1", "1001", "tcp", 0, true},
		{"sip:1001@10.0.0.1:5070;transport=udp;fs_nat=yes", "10.0.0.1", "1001", "udp", 5070, true},
		{"example.com", "example.com", "", "", 0, true},
		{"1000@host\r\nVia: x", "", "", "", 0, false},
		{"", "", "", "", 0, false},
		{"<sip:x@y>", "", "", "", 0, false},
	}
	for _, c := range cases {
		u, err := parseTarget(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if !c.ok {
			continue
		}
		tr, _ := u.UriParams.Get("transport")
		if u.Host != c.host || u.User != c.user || u.Port != c.port || tr != c.transport {
			t.Errorf("%q: got %s %s %d %s", c.in, u.User, u.Host, u.Port, tr)
		}
	}
}

func TestReasonCause(t *testing.T) {
	for in, want := range map[string]int{
		`Q.850;cause=17;text="USER_BUSY"`:                17,
		`SIP;cause=200;text="x", Q.850;cause=16`:         16,
		`SIP;cause=487`:                                  -1,
		`Q.850;cause=abc`:                                -1,
		`FreeSWITCH;cause=41;text="NORMAL_TEMP_FAILURE"`: 41,
	} {
		n, ok := reasonCause(in)
		if !ok {
			n = -1
		}
		if n != want {
			t.Errorf("%q: %d, want %d", in, n, want)
		}
	}
}

func TestSplitContacts(t *testing.T) {
	got := splitContacts(`"A, B" <sip:a@h;x=1,2>;expires=5, <sip:b@h>, sip:c@h`)
	if len(got) != 3 || !strings.HasPrefix(got[0], `"A, B"`) || got[2] != "sip:c@h" {
		t.Errorf("%q", got)
	}
}

// TestNegotiationPrefs: the codec list and SRTP policy come from absolute_codec_string, then
// codec_string, then the profile; an unset rtp_secure_media accepts SRTP when answering only.
func TestNegotiationPrefs(t *testing.T) {
	pc := &ProfileConfig{InboundCodecs: sdp.ParseCodecString("PCMU,PCMA"), OutboundCodecs: sdp.ParseCodecString("G722,PCMU")}
	tests := []struct {
		vars             map[string]string
		inbound, answers bool
		codecs           string
		mode             sdp.SecureMode
	}{
		{nil, true, true, "PCMU,PCMA", sdp.SecureOptional},
		{nil, true, false, "PCMU,PCMA", sdp.SecureForbidden},
		{nil, false, false, "G722,PCMU", sdp.SecureForbidden},
		{map[string]string{"codec_string": "PCMA"}, true, true, "PCMA", sdp.SecureOptional},
		{map[string]string{"codec_string": "PCMA", "absolute_codec_string": "G722@30i"}, false, false, "G722@30i", sdp.SecureForbidden},
		{map[string]string{"rtp_secure_media": "true"}, false, false, "G722,PCMU", sdp.SecureMandatory},
		{map[string]string{"rtp_secure_media": "true", "rtp_secure_media_outbound": "optional"}, false, false, "G722,PCMU", sdp.SecureOptional},
		{map[string]string{"rtp_secure_media_outbound": "true"}, true, true, "PCMU,PCMA", sdp.SecureOptional},
		{map[string]string{"rtp_secure_media_inbound": "forbidden"}, true, true, "PCMU,PCMA", sdp.SecureForbidden},
	}
	for i, tt := range tests {
		pr := negotiationPrefs(pc, tt.inbound, tt.answers, func(k string) string { return tt.vars[k] })
		if got := sdp.FormatCodecString(pr.codecs); got != tt.codecs || pr.secure.Mode != tt.mode {
			t.Errorf("%d %v: codecs %q mode %v", i, tt.vars, got, pr.secure.Mode)
		}
	}
	a := negotiationPrefs(pc, true, true, func(string) string { return "" })
	b := negotiationPrefs(pc, true, true, func(k string) string {
		if k == "absolute_codec_string" {
			return "PCMA"
		}
		return ""
	})
	if a.key == b.key {
		t.Error("a dialplan codec change must change the key (late negotiation)")
	}
}

// testSDPConfig is what a profile answering with PCMU,PCMA would use.
func testSDPConfig(s string) sdp.Config {
	pr := negotiationPrefs(&ProfileConfig{InboundCodecs: sdp.ParseCodecString("PCMU,PCMA")}, true, true, func(string) string { return s })
	return sdp.Config{IP: mustAddr("127.0.0.1"), Port: 4000, Codecs: pr.codecs, Secure: pr.secure, TelephoneEventPT: 101,
		Supported: func(string, int, int) bool { return true }}
}

// FuzzSIPGlue feeds dialplan-controlled values and peer-controlled URIs/contacts through the
// glue: nothing may panic, and no accepted header value may carry CR or LF.
func FuzzSIPGlue(f *testing.F) {
	for _, s := range []string{"1000@127.0.0.1:5060", "sip:a@b;transport=tcp", "x\r\ny", `"a" <sip:b@c>;expires=3, <sip:d@e>`,
		"Q.850;cause=16", "v=0\r\nm=audio 1 RTP/AVP 0\r\na=crypto:1 X inline:AAAA\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hdrs, _ := customHeaders([][2]string{{"sip_h_X-F", s}, {"sip_h_" + s, "v"}})
		for _, h := range hdrs {
			if strings.ContainsAny(h.Value(), "\r\n") || strings.ContainsAny(h.Name(), "\r\n: ") {
				t.Fatalf("unsafe header accepted: %q: %q", h.Name(), h.Value())
			}
		}
		if u, err := parseTarget(s); err == nil {
			if strings.ContainsAny(u.String(), "\r\n") {
				t.Fatalf("target with CRLF: %q", u.String())
			}
		}
		splitContacts(s)
		reasonCause(s)
		sdp.Answer([]byte(s), testSDPConfig(s))
		parseCredUser(s)
	})
}

func BenchmarkCustomHeaders(b *testing.B) {
	vars := [][2]string{{"sip_h_X-Account", "12345"}, {"sip_h_X-Call-Type", "inbound"}, {"origination_caller_id_number", "1000"}}
	b.ReportAllocs()
	for b.Loop() {
		customHeaders(vars)
	}
}

func BenchmarkParseTarget(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parseTarget("sip:1001@127.0.0.1:5062;transport=tcp;fs_nat=yes")
	}
}

func BenchmarkAnswerSDP(b *testing.B) {
	offer := []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
	cfg := testSDPConfig("")
	b.ReportAllocs()
	for b.Loop() {
		sdp.Answer(offer, cfg)
	}
}

func TestGlueAllocs(t *testing.T) {
	vars := [][2]string{{"origination_caller_id_number", "1000"}, {"call_timeout", "30"}}
	if n := testing.AllocsPerRun(100, func() { customHeaders(vars) }); n > 0 {
		t.Errorf("customHeaders without sip_h_ vars allocates %.0f times", n)
	}
	if n := testing.AllocsPerRun(100, func() { reasonCause(`Q.850;cause=16;text="NORMAL_CLEARING"`) }); n > 2 {
		t.Errorf("reasonCause allocates %.0f times", n)
	}
}
