package sdp

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

func seed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// supported stands in for the codec registry (core/sdp must not import codecs).
func supported(name string, clock, ch int) bool {
	switch name {
	case "PCMU", "PCMA", "G722", "L16":
		return true
	}
	return false
}

func cfg(policy string) Config {
	return Config{IP: netip.MustParseAddr("10.0.0.5"), Port: 20000, SessionID: 1, Version: 2,
		Codecs: ParseCodecString("OPUS,G722,PCMU,PCMA"), TelephoneEventPT: 101,
		Secure: ParseSecureMedia(policy), Supported: supported}
}

func TestAnswerSeedOffers(t *testing.T) {
	tests := []struct {
		name      string
		offer     string
		policy    string
		greedy    bool
		codecs    string
		wantErr   error
		codec     string
		pt        uint8
		te        uint8
		secure    string // suite or ""
		tag       string // expected "a=crypto:<tag> " in the answer
		lines     []string
		remote    string
		hasCrypto string
	}{
		{name: "xlite plain", offer: "xlite_offer.sdp", codec: "PCMA", pt: 8, te: 101,
			lines:  []string{"m=audio 20000 RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "a=fmtp:101 0-16", "a=sendrecv", "a=ptime:20"},
			remote: "192.168.1.23:49874"},
		{name: "xlite mandatory srtp refused", offer: "xlite_offer.sdp", policy: "true", wantErr: ErrNotAcceptable},
		{name: "xlite codec not allowed", offer: "xlite_offer.sdp", codecs: "PCMU,G722", wantErr: ErrNotAcceptable},
		{name: "dual offer optional picks SAVP suite 3", offer: "fs_dual_offer.sdp", policy: "optional", codec: "PCMA", pt: 8, te: 101,
			secure: "AES_CM_256_HMAC_SHA1_80", tag: "a=crypto:3 AES_CM_256_HMAC_SHA1_80 inline:",
			lines: []string{"m=audio 20000 RTP/SAVP 8 101", "m=audio 0 RTP/AVP 8"}, hasCrypto: "AEAD_AES_256_GCM_8"},
		{name: "dual offer mandatory", offer: "fs_dual_offer.sdp", policy: "mandatory", codec: "PCMA", pt: 8, te: 101,
			secure: "AES_CM_256_HMAC_SHA1_80", tag: "a=crypto:3 ", lines: []string{"m=audio 0 RTP/AVP 8"}},
		{name: "dual offer suite list", offer: "fs_dual_offer.sdp", policy: "true:AES_CM_128_HMAC_SHA1_32", codec: "PCMA", pt: 8, te: 101,
			secure: "AES_CM_128_HMAC_SHA1_32", tag: "a=crypto:8 AES_CM_128_HMAC_SHA1_32 inline:"},
		{name: "dual offer forbidden takes AVP line", offer: "fs_dual_offer.sdp", policy: "false", codec: "PCMA", pt: 8, te: 101,
			lines: []string{"m=audio 0 RTP/SAVP 8", "m=audio 20000 RTP/AVP 8 101"}, hasCrypto: "AEAD_AES_256_GCM_8"},
		{name: "answer as offer: second line port 0 ignored", offer: "fs_savp_answer.sdp", policy: "optional", codec: "PCMA", pt: 8, te: 101,
			secure: "AES_CM_256_HMAC_SHA1_80", tag: "a=crypto:3 ", lines: []string{"m=audio 0 RTP/SAVP 19"}, remote: "18.212.123.47:33516"},
		{name: "greedy order", offer: "greedy.sdp", greedy: true, codecs: "PCMU,PCMA", codec: "PCMU", pt: 0, te: 0},
		{name: "generous order", offer: "greedy.sdp", codecs: "PCMU,PCMA", codec: "PCMA", pt: 8, te: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg(tt.policy)
			c.Greedy = tt.greedy
			if tt.codecs != "" {
				c.Codecs = ParseCodecString(tt.codecs)
			}
			ans, r, err := Answer(seed(t, tt.offer), c)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := string(ans)
			if r.Codec.Name != tt.codec || r.Codec.PT != tt.pt || r.TelephoneEventPT != tt.te {
				t.Fatalf("codec %+v te %d\n%s", r.Codec, r.TelephoneEventPT, s)
			}
			if r.Ptime != 20*time.Millisecond {
				t.Errorf("ptime %v", r.Ptime)
			}
			if (tt.secure != "") != r.Secure || r.Suite != tt.secure {
				t.Fatalf("secure %v %q\n%s", r.Secure, r.Suite, s)
			}
			if tt.tag != "" && !strings.Contains(s, tt.tag) {
				t.Errorf("answer lacks %q:\n%s", tt.tag, s)
			}
			for _, l := range tt.lines {
				if !strings.Contains(s, l+"\r\n") {
					t.Errorf("answer lacks %q:\n%s", l, s)
				}
			}
			if tt.remote != "" && r.Remote.String() != tt.remote {
				t.Errorf("remote %v", r.Remote)
			}
			if r.Secure {
				if len(r.LocalKey.Key) != r.LocalKey.Suite.KeyLen || len(r.RemoteKey.Salt) != r.RemoteKey.Suite.SaltLen {
					t.Errorf("key lengths %d/%d", len(r.LocalKey.Key), len(r.RemoteKey.Salt))
				}
				if v := r.Vars(); v["rtp_secure_media_confirmed"] != "true" || v["rtp_has_crypto"] != tt.secure {
					t.Errorf("vars %v", v)
				}
			}
			if tt.hasCrypto != "" && r.RemoteHasCrypto != tt.hasCrypto {
				t.Errorf("rtp_has_crypto %q", r.RemoteHasCrypto)
			}
			// Our answer must parse back.
			if _, _, err := parse(ans); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseSeedAnswerToSeedOffer(t *testing.T) {
	o, err := ParseOffer(seed(t, "fs_dual_offer.sdp"), cfg("optional"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.ParseAnswer(seed(t, "fs_savp_answer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Secure || r.Suite != "AES_CM_256_HMAC_SHA1_80" || r.Codec.Name != "PCMA" || r.TelephoneEventPT != 101 ||
		r.Remote.String() != "18.212.123.47:33516" || r.RemoteRTCP.Port() != 33517 || r.MediaIndex != 0 || r.Direction != media.SendRecv {
		t.Fatalf("%+v", r)
	}
	// Our key is the offer's crypto:3, theirs the answer's.
	if len(r.LocalKey.Key) != 32 || len(r.RemoteKey.Key) != 32 || bytes.Equal(r.LocalKey.Key, r.RemoteKey.Key) {
		t.Fatalf("keys %x %x", r.LocalKey.Key, r.RemoteKey.Key)
	}
	if _, err := r.LocalKey.NewContext(false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RemoteKey.NewContext(true); err != nil {
		t.Fatal(err)
	}
}

func TestOfferAnswerRoundTrip(t *testing.T) {
	for _, policy := range []string{"false", "optional", "mandatory", "true:AEAD_AES_128_GCM"} {
		c := cfg(policy)
		c.RTCP = true
		o, err := BuildOffer(c)
		if err != nil {
			t.Fatal(err)
		}
		s := string(o.SDP)
		if !strings.Contains(s, "m=audio 20000 ") || !strings.Contains(s, "a=rtpmap:9 G722/8000") || !strings.Contains(s, "a=rtcp:20001") {
			t.Fatalf("%s offer:\n%s", policy, s)
		}
		if strings.Contains(s, "OPUS") || strings.Contains(s, "opus") {
			t.Fatalf("unsupported codec offered:\n%s", s)
		}
		peer := cfg(policy)
		peer.Port = 30000
		peer.IP = netip.MustParseAddr("10.0.0.9")
		peer.Codecs = ParseCodecString("PCMU,PCMA")
		ans, ra, err := Answer(o.SDP, peer)
		if err != nil {
			t.Fatalf("%s: %v\n%s", policy, err, s)
		}
		ro, err := o.ParseAnswer(ans)
		if err != nil {
			t.Fatalf("%s: %v\n%s", policy, err, ans)
		}
		if ro.Codec.Name != "PCMU" || ra.Codec.Name != "PCMU" || ro.Remote.String() != "10.0.0.9:30000" || ra.RemoteRTCP.Port() != 20001 {
			t.Fatalf("%s: offerer %+v answerer %+v", policy, ro, ra)
		}
		wantSecure := policy != "false"
		if ro.Secure != wantSecure || ra.Secure != wantSecure {
			t.Fatalf("%s: secure %v/%v", policy, ro.Secure, ra.Secure)
		}
		if wantSecure {
			if !bytes.Equal(ro.LocalKey.Key, ra.RemoteKey.Key) || !bytes.Equal(ra.LocalKey.Salt, ro.RemoteKey.Salt) {
				t.Fatalf("%s: keys do not pair up", policy)
			}
			if strings.HasPrefix(policy, "true:") && ro.Suite != "AEAD_AES_128_GCM" {
				t.Fatalf("suite %s", ro.Suite)
			}
			if policy == "optional" && !strings.Contains(s, "RTP/SAVP") {
				t.Fatal("no SAVP line")
			}
		}
	}
}

func TestSuiteOrderFollowsFreeSWITCH(t *testing.T) {
	o, err := BuildOffer(cfg("optional"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(o.SDP), "\r\n") {
		if strings.HasPrefix(l, "a=crypto:") {
			got = append(got, strings.Fields(l)[1])
		}
	}
	want := "AEAD_AES_256_GCM AEAD_AES_128_GCM AES_CM_256_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_80 AES_CM_256_HMAC_SHA1_32 AES_CM_128_HMAC_SHA1_32 AES_CM_128_NULL_AUTH"
	if strings.Join(got, " ") != want {
		t.Fatalf("suites %v", got)
	}
	// Only the SAVP line carries crypto; the AVP line follows on the same port.
	if strings.Count(string(o.SDP), "m=audio 20000 ") != 2 {
		t.Fatalf("dual offer:\n%s", o.SDP)
	}
}

func TestHoldAndDirection(t *testing.T) {
	base := "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n%s"
	tests := []struct {
		addr, attr string
		dir        media.Direction
		hold       bool
		answerAttr string
	}{
		{"10.1.1.1", "a=sendrecv\r\n", media.SendRecv, false, "a=sendrecv"},
		{"10.1.1.1", "a=sendonly\r\n", media.RecvOnly, true, "a=recvonly"},
		{"10.1.1.1", "a=recvonly\r\n", media.SendOnly, false, "a=sendonly"},
		{"10.1.1.1", "a=inactive\r\n", media.Inactive, true, "a=inactive"},
		{"0.0.0.0", "", media.RecvOnly, true, "a=recvonly"},
	}
	for _, tt := range tests {
		offer := strings.Replace(strings.Replace(base, "%s", tt.addr, 1), "%s", tt.attr, 1)
		ans, r, err := Answer([]byte(offer), cfg(""))
		if err != nil {
			t.Fatal(err)
		}
		if r.Direction != tt.dir || r.Hold != tt.hold || !strings.Contains(string(ans), tt.answerAttr+"\r\n") {
			t.Errorf("%s %q: dir %v hold %v\n%s", tt.addr, tt.attr, r.Direction, r.Hold, ans)
		}
	}
}

func TestPtimeAndRTCPAttr(t *testing.T) {
	offer := "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9 0\r\na=ptime:30\r\na=rtcp:4005 IN IP4 10.1.1.2\r\n"
	ans, r, err := Answer([]byte(offer), cfg(""))
	if err != nil {
		t.Fatal(err)
	}
	if r.Codec.Name != "G722" || r.Codec.SampleRate != 16000 || r.Codec.ClockRate != 8000 || r.Ptime != 30*time.Millisecond ||
		r.RemoteRTCP.String() != "10.1.1.2:4005" || r.TelephoneEventPT != 0 {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(string(ans), "a=ptime:30\r\n") || strings.Contains(string(ans), "telephone-event") {
		t.Fatalf("%s", ans)
	}
}

func TestCodecString(t *testing.T) {
	got := ParseCodecString("PCMU@20i,G722, OPUS@48000h@20i@2c,L16@16000h:PCMA")
	want := []CodecPref{{Name: "PCMU", Ptime: 20 * time.Millisecond}, {Name: "G722"},
		{Name: "OPUS", Rate: 48000, Ptime: 20 * time.Millisecond, Channels: 2}, {Name: "L16", Rate: 16000}, {Name: "PCMA"}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%d: %+v want %+v", i, got[i], want[i])
		}
	}
	if s := FormatCodecString(got); s != "PCMU@20i,G722,OPUS@48000h@20i@2c,L16@16000h,PCMA" {
		t.Errorf("format %q", s)
	}
}

func TestCryptoParse(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		keyOK   bool
		keyLen  int
		mkiLen  int
		life    string
		roundTo string
	}{
		{"3 AES_CM_256_HMAC_SHA1_80 inline:/itE1k5BLMoTNzo7YEv6hCyM6R6wyHem3Coc5jjYVlKR2L3tEzBG5zx1QHgVSg==", true, true, 46, 0, "", ""},
		{"5 AES_CM_128_HMAC_SHA1_80 inline:Yd4L5Qi7A/8xay5ZHWR1jKk9j5Kvy9s2Zo3NOES2", true, true, 30, 0, "", "5 AES_CM_128_HMAC_SHA1_80 inline:Yd4L5Qi7A/8xay5ZHWR1jKk9j5Kvy9s2Zo3NOES2"},
		{"2 AEAD_AES_128_GCM_8 inline:ePH/F2Qw5+zi8c7tkBb6Y2AQE5uevp+jWUkjgQ", true, false, 28, 0, "", ""},
		{"4 AES_CM_192_HMAC_SHA1_80 inline:2PVBBJEp4QcTzTf4Th8Ag/7KiVPmrYb/FCowiRb6yAuTO/kxQLc", true, false, 38, 0, "", ""},
		{"9 AES_CM_128_NULL_AUTH inline:f2fx2ekxPG3GTwTYARtquNJ87qO0Q5ei47KYlo9K", true, true, 30, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32", true, true, 30, 32, "2^20", "1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32"},
		{"1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31 KDR=1", true, true, 30, 0, "2^31", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:AAAA", true, false, 3, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80", false, false, 0, 0, "", ""},
		{"x AES_CM_128_HMAC_SHA1_80 inline:AAAA", false, false, 0, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 uri:foo", false, false, 0, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", false, false, 0, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:0", false, false, 0, 0, "", ""},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|2^x", false, false, 0, 0, "", ""},
	}
	for _, tt := range tests {
		c, err := ParseCrypto(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if len(c.KeySalt) != tt.keyLen || c.MKILen != tt.mkiLen || c.Lifetime != tt.life {
			t.Errorf("%q: %+v", tt.in, c)
		}
		k, err := c.Key()
		if (err == nil) != tt.keyOK {
			t.Errorf("%q: Key err %v", tt.in, err)
		}
		if err == nil && tt.mkiLen > 0 && (len(k.MKI) != tt.mkiLen || k.MKI[tt.mkiLen-1] != 1) {
			t.Errorf("%q: MKI % x", tt.in, k.MKI)
		}
		if tt.roundTo != "" && c.String() != tt.roundTo {
			t.Errorf("String %q", c.String())
		}
	}
}

func TestSecureMediaPolicy(t *testing.T) {
	tests := []struct {
		in     string
		mode   SecureMode
		suites int
	}{{"", SecureForbidden, 0}, {"false", SecureForbidden, 0}, {"true", SecureMandatory, 0}, {"mandatory", SecureMandatory, 0},
		{"optional", SecureOptional, 0}, {"true:AES_CM_128_HMAC_SHA1_80:AES_CM_192_HMAC_SHA1_80:AEAD_AES_256_GCM", SecureMandatory, 2},
		{"optional:AES_256_CM_HMAC_SHA1_80", SecureOptional, 1}}
	for _, tt := range tests {
		p := ParseSecureMedia(tt.in)
		if p.Mode != tt.mode || len(p.Suites) != tt.suites {
			t.Errorf("%q: %+v", tt.in, p)
		}
	}
}

// TestReoffer: a re-INVITE offer keeps the negotiated codec, telephone-event PT, transport and
// our SRTP key and tag; the answer to it parses back to the same media.
func TestReoffer(t *testing.T) {
	tests := []struct {
		name, policy string
		dir          media.Direction
		lines        []string
		absent       []string
	}{
		{name: "plain hold", policy: "false", dir: media.SendOnly,
			lines:  []string{"m=audio 20000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly", "o=FreeSWITCH 1 3 IN IP4 10.0.0.5"},
			absent: []string{"PCMA", "a=crypto"}},
		{name: "srtp refresh", policy: "true:AES_CM_128_HMAC_SHA1_32", dir: media.SendRecv,
			lines: []string{"m=audio 20000 RTP/SAVP 0 101", "a=sendrecv"}, absent: []string{"RTP/AVP", "PCMA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := BuildOffer(cfg(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			peer := cfg(tt.policy)
			peer.Port, peer.IP, peer.Codecs = 30000, netip.MustParseAddr("10.0.0.9"), ParseCodecString("PCMU,PCMA")
			ans, pr, err := Answer(o.SDP, peer)
			if err != nil {
				t.Fatal(err)
			}
			cur, err := o.ParseAnswer(ans)
			if err != nil {
				t.Fatal(err)
			}
			c := cfg("") // the policy of a re-offer comes from cur, not from cfg
			c.Version, c.Direction = 3, tt.dir
			re, err := Reoffer(c, cur)
			if err != nil {
				t.Fatal(err)
			}
			s := string(re.SDP)
			for _, l := range tt.lines {
				if !strings.Contains(s, l+"\r\n") {
					t.Errorf("re-offer lacks %q:\n%s", l, s)
				}
			}
			for _, l := range tt.absent {
				if strings.Contains(s, l) {
					t.Errorf("re-offer has %q:\n%s", l, s)
				}
			}
			if cur.Secure && !strings.Contains(s, Crypto{Tag: cur.Tag, Suite: cur.Suite, KeySalt: cur.LocalKey.KeySalt()}.String()) {
				t.Errorf("re-offer does not keep key and tag %d:\n%s", cur.Tag, s)
			}
			// The peer answers the re-offer keeping its own key.
			peer.LocalKey = &pr.LocalKey
			peer.Direction = media.SendRecv
			ans2, pr2, err := Answer(re.SDP, peer)
			if err != nil {
				t.Fatal(err)
			}
			if cur.Secure && !bytes.Equal(pr2.LocalKey.Key, pr.LocalKey.Key) {
				t.Error("answerer re-keyed although its LocalKey suite matched")
			}
			r2, err := re.ParseAnswer(ans2)
			if err != nil {
				t.Fatalf("%v\n%s", err, ans2)
			}
			if r2.Codec.Name != cur.Codec.Name || r2.TelephoneEventPT != 101 || r2.Secure != cur.Secure || r2.Direction != tt.dir ||
				!bytes.Equal(r2.LocalKey.Key, cur.LocalKey.Key) || !bytes.Equal(r2.RemoteKey.Key, cur.RemoteKey.Key) {
				t.Fatalf("re-answer %+v\nfirst %+v", r2, cur)
			}
		})
	}
	if _, err := Reoffer(cfg(""), nil); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("Reoffer without media: %v", err)
	}
	// A secure answer to a re-offer without a=crypto is refused: no silent downgrade.
	o, _ := BuildOffer(cfg("true"))
	peer := cfg("true")
	ans, _, _ := Answer(o.SDP, peer)
	cur, err := o.ParseAnswer(ans)
	if err != nil {
		t.Fatal(err)
	}
	re, _ := Reoffer(cfg(""), cur)
	plain := "v=0\r\no=- 1 2 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
	if _, err := re.ParseAnswer([]byte(plain)); err == nil {
		t.Error("plain answer to a secure re-offer accepted")
	}
}

// TestLocalKeyReuse: an answer reuses Config.LocalKey only when the chosen suite matches it.
func TestLocalKeyReuse(t *testing.T) {
	k80, _ := rtp.LookupSRTPSuite("AES_CM_128_HMAC_SHA1_80")
	k32, _ := rtp.LookupSRTPSuite("AES_CM_128_HMAC_SHA1_32")
	key80, _ := rtp.NewSRTPKey(k80)
	key32, _ := rtp.NewSRTPKey(k32)
	offer := "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n" +
		"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:Yd4L5Qi7A/8xay5ZHWR1jKk9j5Kvy9s2Zo3NOES2\r\n"
	for _, tt := range []struct {
		key   *rtp.SRTPKey
		reuse bool
	}{{nil, false}, {&key80, true}, {&key32, false}} {
		c := cfg("optional")
		c.LocalKey = tt.key
		ans, r, err := Answer([]byte(offer), c)
		if err != nil {
			t.Fatal(err)
		}
		if got := tt.key != nil && bytes.Equal(r.LocalKey.Key, tt.key.Key); got != tt.reuse || r.Tag != 7 {
			t.Errorf("key %v: reused %v tag %d\n%s", tt.key != nil, got, r.Tag, ans)
		}
		if !strings.Contains(string(ans), Crypto{Tag: 7, Suite: r.Suite, KeySalt: r.LocalKey.KeySalt()}.String()) {
			t.Errorf("answer does not carry the key it reports:\n%s", ans)
		}
	}
}

// TestHoldWhileHeld: our own hold (Config.Direction) combines with the far end's; an answer
// never widens the direction we offered.
func TestHoldWhileHeld(t *testing.T) {
	base := "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n%s"
	tests := []struct {
		addr, attr string
		ours, want media.Direction
	}{
		{"0.0.0.0", "", media.SendOnly, media.Inactive},
		{"0.0.0.0", "", media.SendRecv, media.RecvOnly},
		{"10.1.1.1", "a=sendrecv\r\n", media.SendOnly, media.SendOnly},
		{"10.1.1.1", "a=sendonly\r\n", media.SendOnly, media.Inactive},
	}
	for _, tt := range tests {
		offer := strings.Replace(strings.Replace(base, "%s", tt.addr, 1), "%s", tt.attr, 1)
		c := cfg("")
		c.Direction = tt.ours
		_, r, err := Answer([]byte(offer), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Direction != tt.want {
			t.Errorf("%s %q ours %v: %v, want %v", tt.addr, tt.attr, tt.ours, r.Direction, tt.want)
		}
	}
	c := cfg("")
	c.Direction = media.SendOnly
	o, err := BuildOffer(c)
	if err != nil {
		t.Fatal(err)
	}
	ans := "v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"
	if r, err := o.ParseAnswer([]byte(ans)); err != nil || r.Direction != media.SendOnly {
		t.Errorf("sendrecv answer to our sendonly offer: %v %v", r, err)
	}
}

// TestCryptoInAVP: the compact optional offer is one RTP/AVP line with a=crypto; an SRTP
// answerer keys it, a plain one (SRTP forbidden) answers plain RTP and the offerer accepts that.
func TestCryptoInAVP(t *testing.T) {
	c := cfg("optional:AES_CM_128_HMAC_SHA1_80")
	c.CryptoInAVP = true
	o, err := BuildOffer(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(o.SDP)
	if strings.Count(s, "m=audio") != 1 || !strings.Contains(s, "m=audio 20000 RTP/AVP ") || strings.Count(s, "a=crypto:") != 1 {
		t.Fatalf("offer:\n%s", s)
	}
	for _, tt := range []struct {
		policy string
		secure bool
	}{{"optional", true}, {"false", false}} {
		peer := cfg(tt.policy)
		peer.Port = 30000
		ans, ra, err := Answer(o.SDP, peer)
		if err != nil {
			t.Fatal(err)
		}
		ro, err := o.ParseAnswer(ans)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.policy, err, ans)
		}
		if ro.Secure != tt.secure || ra.Secure != tt.secure || ro.Proto != "RTP/AVP" {
			t.Errorf("%s: offerer %v answerer %v proto %s\n%s", tt.policy, ro.Secure, ra.Secure, ro.Proto, ans)
		}
		if tt.secure && !bytes.Equal(ro.LocalKey.Key, ra.RemoteKey.Key) {
			t.Errorf("keys do not pair up")
		}
	}
}

// TestOfferPtime: the offer's a=ptime is the first codec's @Ni, else Config.Ptime.
func TestOfferPtime(t *testing.T) {
	for _, tt := range []struct {
		codecs string
		want   string
	}{{"PCMU,PCMA", "a=ptime:20"}, {"PCMU@30i,PCMA@20i", "a=ptime:30"}, {"PCMA,PCMU@40i", "a=ptime:20"}} {
		c := cfg("")
		c.Codecs = ParseCodecString(tt.codecs)
		o, err := BuildOffer(c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(o.SDP), tt.want+"\r\n") {
			t.Errorf("%s: want %s\n%s", tt.codecs, tt.want, o.SDP)
		}
	}
	// An answer without a=ptime keeps the preference's ptime.
	c := cfg("")
	c.Codecs = ParseCodecString("PCMU@30i")
	o, _ := BuildOffer(c)
	r, err := o.ParseAnswer([]byte("v=0\r\no=- 1 2 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	if err != nil || r.Ptime != 30*time.Millisecond {
		t.Errorf("answer without a=ptime: %v %v", r, err)
	}
}
