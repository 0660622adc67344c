package sip

import (
	"testing"

	"github.com/goswitch/goswitch/core/sdp"
)

func TestLegCodecs(t *testing.T) {
	profile := sdp.ParseCodecString("G722,PCMU,PCMA")
	cases := []struct {
		name      string
		inbound   bool
		answering bool
		vars      map[string]string
		want      string
	}{
		{"profile", false, false, nil, "G722,PCMU,PCMA"},
		{"originator only", false, false, map[string]string{"originator_codec": "PCMA@8000h@20i"}, "PCMA@8000h@20i"},
		{"absolute wins", false, false, map[string]string{"originator_codec": "PCMA", "absolute_codec_string": "PCMU"}, "PCMU"},
		{"mix", false, false, map[string]string{"originator_codec": "PCMA@8000h", "media_mix_inbound_outbound_codecs": "true"}, "PCMA@8000h,G722,PCMU"},
		{"mix with codec_string", false, false, map[string]string{"originator_codec": "PCMA", "media_mix_inbound_outbound_codecs": "true", "codec_string": "PCMU,PCMA"}, "PCMA,PCMU"},
		{"exact codec_string", false, true, map[string]string{"originator_codec": "PCMA", "codec_string": "=PCMU"}, "PCMU"},
		{"answering after answer", false, true, map[string]string{"originator_codec": "PCMA"}, "PCMA,G722,PCMU"},
		{"inbound ignores originator", true, true, map[string]string{"originator_codec": "PCMA"}, "G722,PCMU,PCMA"},
		{"codec_string", true, true, map[string]string{"codec_string": "PCMA,PCMU"}, "PCMA,PCMU"},
	}
	for _, c := range cases {
		got := sdp.FormatCodecString(legCodecs(profile, c.inbound, c.answering, func(k string) string { return c.vars[k] }))
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestOfferedCodecs(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n"
	got := sdp.FormatCodecString(sdp.OfferedCodecs([]byte(offer), sdp.Config{Codecs: sdp.ParseCodecString("PCMU,PCMA")}))
	if got != "PCMA@8000h@30i,PCMU@8000h@30i" {
		t.Errorf("ep_codec_string %q", got)
	}
}
