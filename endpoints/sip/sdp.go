package sip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// This file is the small SDP offer/answer the SIP legs need until core/sdp lands: one audio
// m-line, rtpmap/fmtp/ptime, direction, telephone-event and SDES a=crypto.

// sdpCodec is one payload type of an m-line.
type sdpCodec struct {
	PT    uint8
	Name  string
	Clock int
	Chans int
	Fmtp  string
}

// sdpCrypto is one a=crypto line.
type sdpCrypto struct {
	Tag   int
	Suite string
	Key   []byte // key||salt
}

// sdpMedia is the parsed audio description of a session description.
type sdpMedia struct {
	Addr    netip.Addr
	Port    int
	Proto   string // RTP/AVP, RTP/SAVP
	Codecs  []sdpCodec
	Ptime   time.Duration
	Dir     media.Direction
	Cryptos []sdpCrypto
}

var errNoAudio = errors.New("sdp: no audio m-line")

// staticPT are the payload types a peer may use without rtpmap.
var staticPT = map[uint8]sdpCodec{
	0: {0, "PCMU", 8000, 1, ""}, 3: {3, "GSM", 8000, 1, ""}, 8: {8, "PCMA", 8000, 1, ""},
	9: {9, "G722", 8000, 1, ""}, 18: {18, "G729", 8000, 1, ""},
}

// parseSDP reads the first audio m-line and its attributes.
func parseSDP(body []byte) (*sdpMedia, error) {
	var m *sdpMedia
	var sessAddr netip.Addr
	sessDir := media.SendRecv
	inAudio := false
	fmts := []uint8{}
	rtpmap := map[uint8]sdpCodec{}
	fmtp := map[uint8]string{}
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		k, v := line[0], line[2:]
		switch k {
		case 'c':
			f := strings.Fields(v)
			if len(f) == 3 {
				a, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
				if err == nil {
					if m != nil && inAudio {
						m.Addr = a
					} else if m == nil {
						sessAddr = a
					}
				}
			}
		case 'm':
			if m != nil {
				inAudio = false
				continue
			}
			f := strings.Fields(v)
			if len(f) < 3 || f[0] != "audio" {
				continue
			}
			port, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || port < 0 || port > 65535 {
				return nil, fmt.Errorf("sdp: bad port %q", f[1])
			}
			m = &sdpMedia{Port: port, Proto: f[2], Dir: sessDir}
			inAudio = true
			for _, s := range f[3:] {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > 127 {
					continue
				}
				fmts = append(fmts, uint8(n))
			}
		case 'a':
			name, val, _ := strings.Cut(v, ":")
			if m == nil {
				if d, ok := media.ParseDirection(name); ok {
					sessDir = d
				}
				continue
			}
			if !inAudio {
				continue
			}
			switch name {
			case "rtpmap":
				ptS, enc, _ := strings.Cut(val, " ")
				pt, err := strconv.Atoi(ptS)
				if err != nil || pt < 0 || pt > 127 {
					continue
				}
				parts := strings.Split(enc, "/")
				c := sdpCodec{PT: uint8(pt), Name: parts[0], Clock: 8000, Chans: 1}
				if len(parts) > 1 {
					c.Clock, _ = strconv.Atoi(parts[1])
				}
				if len(parts) > 2 {
					c.Chans, _ = strconv.Atoi(parts[2])
				}
				rtpmap[uint8(pt)] = c
			case "fmtp":
				ptS, p, _ := strings.Cut(val, " ")
				if pt, err := strconv.Atoi(ptS); err == nil && pt >= 0 && pt < 128 {
					fmtp[uint8(pt)] = p
				}
			case "ptime":
				if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n > 0 && n <= 200 {
					m.Ptime = time.Duration(n) * time.Millisecond
				}
			case "crypto":
				if c, ok := parseCrypto(val); ok {
					m.Cryptos = append(m.Cryptos, c)
				}
			default:
				if d, ok := media.ParseDirection(name); ok {
					m.Dir = d
				}
			}
		}
	}
	if m == nil {
		return nil, errNoAudio
	}
	if !m.Addr.IsValid() {
		m.Addr = sessAddr
	}
	for _, pt := range fmts {
		c, ok := rtpmap[pt]
		if !ok {
			c, ok = staticPT[pt]
		}
		if !ok {
			continue
		}
		c.Fmtp = fmtp[pt]
		m.Codecs = append(m.Codecs, c)
	}
	if m.Addr.IsValid() && m.Addr.IsUnspecified() && m.Dir == media.SendRecv {
		m.Dir = media.SendOnly // c=0.0.0.0 is RFC 2543 hold
	}
	return m, nil
}

// parseCrypto reads "1 AES_CM_128_HMAC_SHA1_80 inline:base64[|lifetime][|mki:len]".
func parseCrypto(v string) (sdpCrypto, bool) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return sdpCrypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil {
		return sdpCrypto{}, false
	}
	kp, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return sdpCrypto{}, false
	}
	kp, _, _ = strings.Cut(kp, "|")
	key, err := base64.StdEncoding.DecodeString(kp)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(kp, "="))
		if err != nil {
			return sdpCrypto{}, false
		}
	}
	return sdpCrypto{Tag: tag, Suite: f[1], Key: key}, true
}

// localSDP describes our side of a stream.
type localSDP struct {
	SessID  uint64
	Version uint64
	Addr    netip.Addr
	Port    int
	Codecs  []sdpCodec // first is the chosen audio codec when answering
	DTMFPT  uint8      // 0 = none
	Ptime   time.Duration
	Dir     media.Direction
	Crypto  *sdpCrypto
	Proto   string // as offered when answering; default RTP/AVP, RTP/SAVP with Crypto
}

func (l *localSDP) marshal() []byte {
	var b strings.Builder
	ipv := "IP4"
	if l.Addr.Is6() && !l.Addr.Is4In6() {
		ipv = "IP6"
	}
	proto := l.Proto
	if proto == "" {
		proto = "RTP/AVP"
		if l.Crypto != nil {
			proto = "RTP/SAVP"
		}
	}
	fmt.Fprintf(&b, "v=0\r\no=goswitch %d %d IN %s %s\r\ns=goswitch\r\nc=IN %s %s\r\nt=0 0\r\n",
		l.SessID, l.Version, ipv, l.Addr, ipv, l.Addr)
	fmt.Fprintf(&b, "m=audio %d %s", l.Port, proto)
	for _, c := range l.Codecs {
		fmt.Fprintf(&b, " %d", c.PT)
	}
	if l.DTMFPT != 0 {
		fmt.Fprintf(&b, " %d", l.DTMFPT)
	}
	b.WriteString("\r\n")
	for _, c := range l.Codecs {
		if c.Chans > 1 {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d/%d\r\n", c.PT, c.Name, c.Clock, c.Chans)
		} else {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.PT, c.Name, c.Clock)
		}
		if c.Fmtp != "" {
			fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.PT, c.Fmtp)
		}
	}
	if l.DTMFPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", l.DTMFPT, l.DTMFPT)
	}
	pt := l.Ptime
	if pt == 0 {
		pt = 20 * time.Millisecond
	}
	fmt.Fprintf(&b, "a=ptime:%d\r\n", pt.Milliseconds())
	if l.Crypto != nil {
		fmt.Fprintf(&b, "a=crypto:%d %s inline:%s\r\n", l.Crypto.Tag, l.Crypto.Suite, base64.StdEncoding.EncodeToString(l.Crypto.Key))
	}
	fmt.Fprintf(&b, "a=%s\r\n", l.Dir)
	return []byte(b.String())
}

// codecPrefs turns "PCMU,PCMA,G722@20i" into codec names in order.
func codecPrefs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "@")
		out = append(out, strings.ToUpper(name))
	}
	return out
}

// negotiate picks the first codec of prefs (or of the offer when generous) that the offer has
// and we implement, plus the offer's telephone-event PT.
func negotiate(offer *sdpMedia, prefs []string, generous bool) (sdpCodec, uint8, bool) {
	var dtmf uint8
	for _, c := range offer.Codecs {
		if strings.EqualFold(c.Name, "telephone-event") && c.Clock == 8000 && dtmf == 0 {
			dtmf = c.PT
		}
	}
	supported := func(c sdpCodec) bool {
		_, ok := media.LookupCodec(c.Name, c.Clock, c.Chans)
		return ok
	}
	if generous {
		for _, c := range offer.Codecs {
			if supported(c) && inPrefs(prefs, c.Name) {
				return c, dtmf, true
			}
		}
	} else {
		for _, p := range prefs {
			for _, c := range offer.Codecs {
				if strings.EqualFold(c.Name, p) && supported(c) {
					return c, dtmf, true
				}
			}
		}
	}
	return sdpCodec{}, dtmf, false
}

func inPrefs(prefs []string, name string) bool {
	if len(prefs) == 0 {
		return true
	}
	for _, p := range prefs {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// offerCodecs lists our codecs for an offer in preference order, with well-known PTs.
func offerCodecs(prefs []string) []sdpCodec {
	var out []sdpCodec
	nextDyn := uint8(96)
	for _, p := range prefs {
		var c sdpCodec
		found := false
		for _, s := range staticPT {
			if strings.EqualFold(s.Name, p) {
				c, found = s, true
				break
			}
		}
		if !found {
			infos := media.Codecs()
			for _, ci := range infos {
				if strings.EqualFold(ci.Name, p) {
					c = sdpCodec{PT: nextDyn, Name: ci.Name, Clock: ci.ClockRate, Chans: max(ci.Channels, 1), Fmtp: ci.Fmtp}
					nextDyn++
					found = true
					break
				}
			}
		}
		if !found {
			continue
		}
		if _, ok := media.LookupCodec(c.Name, c.Clock, c.Chans); !ok {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (c sdpCodec) info(ptime time.Duration) media.CodecInfo {
	if ptime == 0 {
		ptime = 20 * time.Millisecond
	}
	ci := media.CodecInfo{Name: c.Name, PT: c.PT, ClockRate: c.Clock, SampleRate: c.Clock, Channels: max(c.Chans, 1), Ptime: ptime, Fmtp: c.Fmtp}
	if impl, ok := media.LookupCodec(c.Name, c.Clock, c.Chans); ok {
		ci.SampleRate = impl.Info().SampleRate
	}
	return ci
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
