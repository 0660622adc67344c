package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/media"
	psdp "github.com/pion/sdp/v3"
)

// ErrParse wraps SDP syntax errors.
var ErrParse = errors.New("sdp: parse error")

// rtpmap is one payload type's a=rtpmap (or the static table).
type rtpmap struct {
	name  string
	clock int
	ch    int
}

// mline is what we need from one m= section.
type mline struct {
	index    int
	media    string
	port     int
	proto    string
	formats  []int
	rawFmts  []string
	maps     map[int]rtpmap
	fmtp     map[int]string
	ptime    time.Duration
	dir      media.Direction
	addr     netip.Addr
	hold     bool // c=0.0.0.0 (RFC 2543 hold)
	rtcp     netip.AddrPort
	cryptos  []Crypto
	badCrypt int
}

func (m *mline) secure() bool { return strings.Contains(m.proto, "SAVP") }

// parse unmarshals an SDP body with pion and extracts the audio-relevant facts of every m-line.
func parse(body []byte) (*psdp.SessionDescription, []*mline, error) {
	var sd psdp.SessionDescription
	if err := sd.Unmarshal(normalise(body)); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	var sessAddr netip.Addr
	if sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil {
		sessAddr, _ = netip.ParseAddr(sd.ConnectionInformation.Address.Address)
	}
	sessDir := media.SendRecv
	for _, a := range sd.Attributes {
		if d, ok := media.ParseDirection(a.Key); ok {
			sessDir = d
		}
	}
	var out []*mline
	for i, md := range sd.MediaDescriptions {
		m := &mline{index: i, media: md.MediaName.Media, port: md.MediaName.Port.Value,
			proto: strings.Join(md.MediaName.Protos, "/"), maps: map[int]rtpmap{}, fmtp: map[int]string{},
			dir: sessDir, addr: sessAddr, rawFmts: md.MediaName.Formats}
		for _, f := range md.MediaName.Formats {
			if pt, err := strconv.Atoi(f); err == nil && pt >= 0 && pt < 128 {
				m.formats = append(m.formats, pt)
				if n, ok := staticNames[pt]; ok {
					wk := wellKnown[n]
					m.maps[pt] = rtpmap{n, wk.clock, 1}
				}
			}
		}
		if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
			m.addr, _ = netip.ParseAddr(md.ConnectionInformation.Address.Address)
		}
		if m.addr.IsValid() && m.addr.IsUnspecified() && !m.dtls() {
			m.hold = true
		}
		for _, a := range md.Attributes {
			m.attr(a.Key, a.Value)
		}
		out = append(out, m)
	}
	return &sd, out, nil
}

func (m *mline) attr(k, v string) {
	switch k {
	case "rtpmap":
		ptS, rest, _ := strings.Cut(v, " ")
		pt, err := strconv.Atoi(ptS)
		if err != nil {
			return
		}
		f := strings.Split(strings.TrimSpace(rest), "/")
		if len(f) < 2 || f[0] == "" {
			return
		}
		clock, err := strconv.Atoi(f[1])
		if err != nil {
			return
		}
		ch := 1
		if len(f) > 2 {
			if c, err := strconv.Atoi(f[2]); err == nil {
				ch = c
			}
		}
		m.maps[pt] = rtpmap{strings.ToUpper(f[0]), clock, ch}
	case "fmtp":
		ptS, rest, _ := strings.Cut(v, " ")
		if pt, err := strconv.Atoi(ptS); err == nil {
			m.fmtp[pt] = strings.TrimSpace(rest)
		}
	case "ptime":
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms > 0 && ms <= 200 {
			m.ptime = time.Duration(ms) * time.Millisecond
		}
	case "rtcp":
		// a=rtcp:<port> [IN IP4 <addr>] (RFC 3605)
		f := strings.Fields(v)
		if len(f) == 0 {
			return
		}
		port, err := strconv.Atoi(f[0])
		if err != nil || port <= 0 || port > 65535 {
			return
		}
		addr := m.addr
		if len(f) == 4 {
			if a, err := netip.ParseAddr(f[3]); err == nil {
				addr = a
			}
		}
		m.rtcp = netip.AddrPortFrom(addr, uint16(port))
	case "crypto":
		c, err := ParseCrypto(v)
		if err != nil {
			m.badCrypt++
			return
		}
		m.cryptos = append(m.cryptos, c)
	default:
		if d, ok := media.ParseDirection(k); ok {
			m.dir = d
		}
	}
}

// normalise fixes what real phones send and pion rejects: bare LF line ends, stray blanks at
// line ends ("a=rtpmap:19 " in the seed trace), trailing empty lines.
func normalise(body []byte) []byte {
	if tidy(body) {
		return body // the common case: nothing to rewrite, nothing to copy
	}
	return rewrite(body)
}

func rewrite(body []byte) []byte {
	s := strings.ReplaceAll(string(body), "\r\n", "\n")
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t\r")
		l = strings.TrimLeft(l, " \t")
		if l == "" {
			continue
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// tidy reports whether body is already what normalise makes of it: non-empty CRLF lines without
// surrounding blanks, the last one terminated.
func tidy(body []byte) bool {
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 2 || body[i-1] != '\r' {
			return false
		}
		if c := body[0]; c == ' ' || c == '\t' {
			return false
		}
		if c := body[i-2]; c == ' ' || c == '\t' || c == '\r' {
			return false
		}
		body = body[i+1:]
	}
	return true
}

// remote returns the RTP address of an m-line.
func (m *mline) remote() netip.AddrPort {
	if !m.addr.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(m.addr, uint16(m.port))
}

// codecAt describes payload type pt of this m-line.
func (m *mline) codecAt(pt int) (rtpmap, bool) {
	r, ok := m.maps[pt]
	return r, ok
}

// telephoneEvent finds the telephone-event PT at the given clock rate (0 = none).
func (m *mline) telephoneEvent(clock int) uint8 {
	for _, pt := range m.formats {
		if r, ok := m.maps[pt]; ok && r.name == "TELEPHONE-EVENT" && r.clock == clock {
			return uint8(pt)
		}
	}
	return 0
}
