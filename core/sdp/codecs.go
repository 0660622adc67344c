package sdp

import (
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// CodecPref is one entry of a FreeSWITCH codec list: "PCMU", "PCMA@20i", "G722",
// "L16@16000h@20i", "OPUS@48000h@20i@2c".
type CodecPref struct {
	Name     string
	Rate     int           // RTP clock rate; 0 = the codec's usual one
	Ptime    time.Duration // 0 = whatever is negotiated
	Channels int           // 0 = 1
}

// ParseCodecString parses absolute_codec_string, codec_string, inbound-codec-prefs and
// outbound-codec-prefs values (comma separated; FreeSWITCH also accepts ':' in some places).
func ParseCodecString(s string) []CodecPref {
	var out []CodecPref
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ':' }) {
		item = strings.TrimSpace(strings.Trim(strings.TrimSpace(item), "'\""))
		if item == "" {
			continue
		}
		parts := strings.Split(item, "@")
		p := CodecPref{Name: strings.ToUpper(parts[0])}
		for _, mod := range parts[1:] {
			if len(mod) < 2 {
				continue
			}
			v, err := strconv.Atoi(mod[:len(mod)-1])
			if err != nil {
				continue
			}
			switch mod[len(mod)-1] {
			case 'h', 'k':
				if mod[len(mod)-1] == 'k' {
					v *= 1000
				}
				p.Rate = v
			case 'i':
				p.Ptime = time.Duration(v) * time.Millisecond
			case 'c':
				p.Channels = v
			}
		}
		out = append(out, p)
	}
	return out
}

// String formats the list back in FreeSWITCH syntax.
func FormatCodecString(prefs []CodecPref) string {
	var b strings.Builder
	for i, p := range prefs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Name)
		if p.Rate != 0 {
			b.WriteString("@" + strconv.Itoa(p.Rate) + "h")
		}
		if p.Ptime != 0 {
			b.WriteString("@" + strconv.Itoa(int(p.Ptime/time.Millisecond)) + "i")
		}
		if p.Channels > 1 {
			b.WriteString("@" + strconv.Itoa(p.Channels) + "c")
		}
	}
	return b.String()
}

// wellKnown holds the SDP facts about codecs: static payload types and the RTP clock rate when
// it differs from the sample rate (G.722's famous 8000).
var wellKnown = map[string]struct {
	pt    int // static PT or -1
	clock int
	rate  int
	ch    int
}{
	"PCMU": {0, 8000, 8000, 1},
	"PCMA": {8, 8000, 8000, 1},
	"G722": {9, 8000, 16000, 1},
	"GSM":  {3, 8000, 8000, 1},
	"G729": {18, 8000, 8000, 1},
	"CN":   {13, 8000, 8000, 1},
	"L16":  {-1, 8000, 8000, 1},
	"OPUS": {-1, 48000, 48000, 2},
}

// staticNames maps static payload types (RFC 3551) for offers that omit a=rtpmap.
var staticNames = map[int]string{0: "PCMU", 3: "GSM", 8: "PCMA", 9: "G722", 13: "CN", 18: "G729"}

// resolve turns a preference into the CodecInfo we would offer (PT 0 for dynamic ones).
func (p CodecPref) resolve() (media.CodecInfo, int) {
	wk, ok := wellKnown[p.Name]
	if !ok {
		wk.pt, wk.clock, wk.rate, wk.ch = -1, 8000, 8000, 1
	}
	ci := media.CodecInfo{Name: p.Name, ClockRate: wk.clock, SampleRate: wk.rate, Channels: max(wk.ch, p.Channels, 1), Ptime: p.Ptime}
	if p.Rate != 0 && p.Name != "G722" {
		ci.ClockRate, ci.SampleRate = p.Rate, p.Rate
	}
	if p.Name == "OPUS" {
		ci.Channels = 2 // opus is always "opus/48000/2" in SDP
	}
	return ci, wk.pt
}

// matches reports whether an offered codec satisfies the preference.
func (p CodecPref) matches(name string, clock int) bool {
	if !strings.EqualFold(p.Name, name) {
		return false
	}
	ci, _ := p.resolve()
	return ci.ClockRate == clock
}
