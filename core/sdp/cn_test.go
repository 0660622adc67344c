package sdp

import (
	"strings"
	"testing"
)

const cnOffer = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0 101 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\na=rtpmap:13 CN/8000\r\na=ptime:20\r\n"

func TestComfortNoiseNegotiation(t *testing.T) {
	noCN := strings.Replace(strings.Replace(cnOffer, " 13\r\n", "\r\n", 1), "a=rtpmap:13 CN/8000\r\n", "", 1)
	tests := []struct {
		name  string
		offer string
		ours  uint8 // Config.ComfortNoisePT (0 = suppress_cng)
		want  uint8
	}{
		{"offered and allowed", cnOffer, 13, 13},
		{"offered, suppress_cng", cnOffer, 0, 0},
		{"not offered", noCN, 13, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg("")
			c.ComfortNoisePT = tc.ours
			body, res, err := Answer([]byte(tc.offer), c)
			if err != nil {
				t.Fatal(err)
			}
			if res.ComfortNoisePT != tc.want {
				t.Errorf("ComfortNoisePT = %d, want %d", res.ComfortNoisePT, tc.want)
			}
			has := strings.Contains(string(body), "a=rtpmap:13 CN/8000") && strings.Contains(string(body), "RTP/AVP 0 101 13")
			if has != (tc.want != 0) {
				t.Errorf("answer CN = %v, want %v:\n%s", has, tc.want != 0, body)
			}
		})
	}
}

func TestComfortNoiseOfferAndReoffer(t *testing.T) {
	c := cfg("")
	c.ComfortNoisePT = 13
	o, err := BuildOffer(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(o.SDP)
	if !strings.Contains(s, " 101 13\r\n") || !strings.Contains(s, "a=fmtp:101 0-16\r\na=rtpmap:13 CN/8000\r\n") {
		t.Fatalf("offer without CN after telephone-event:\n%s", s)
	}
	ans := strings.Replace(cnOffer, "m=audio 4000 RTP/AVP 0 101 13", "m=audio 4000 RTP/AVP 0 101 13", 1)
	r, err := o.ParseAnswer([]byte(ans))
	if err != nil {
		t.Fatal(err)
	}
	if r.ComfortNoisePT != 13 {
		t.Errorf("answer's CN: %d", r.ComfortNoisePT)
	}
	re, err := Reoffer(c, r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(re.SDP), "a=rtpmap:13 CN/8000") {
		t.Errorf("re-offer dropped CN:\n%s", re.SDP)
	}
	c.ComfortNoisePT = 0
	if o, _ := BuildOffer(c); strings.Contains(string(o.SDP), "CN/8000") {
		t.Errorf("suppress_cng offer has CN:\n%s", o.SDP)
	}
}
