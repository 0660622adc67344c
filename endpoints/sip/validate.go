package sip

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// Request validation (RFC 3261 8.2 and 16.3, RFC 4475): what sipgo parses but a UAS must refuse
// before any handler (or authentication) looks at the request, and, for UDP where a datagram is
// a whole message, what sipgo cannot parse at all but is still a request we can answer 400.

// singleHeaders may appear once (RFC 3261 7.3.1 / 20: not comma-separated lists).
var singleHeaders = []string{"Call-ID", "From", "To", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// duplicateSingle returns the first of singleHeaders that req carries more than once, counting
// in one pass over the headers (GetHeaders would build a list per name for every request).
func duplicateSingle(req *sip.Request) string {
	var seen [8]uint8 // len(singleHeaders)
	for _, h := range req.Headers() {
		name := h.Name()
		for i, n := range singleHeaders {
			if len(name) == len(n) && strings.EqualFold(name, n) {
				if seen[i]++; seen[i] > 1 {
					return n
				}
				break
			}
		}
	}
	return ""
}

// rejection is a response a validation chose: code, reason and extra headers.
type rejection struct {
	code   int
	reason string
	hdrs   [][2]string
}

// validateRequest checks a parsed request; nil means it may go on to its handler.
func validateRequest(req *sip.Request) *rejection {
	if req.SipVersion != "SIP/2.0" {
		return &rejection{code: 505, reason: "Version Not Supported"}
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return &rejection{code: 400, reason: "Missing Mandatory Header"}
	}
	if n := duplicateSingle(req); n != "" {
		return &rejection{code: 400, reason: "Duplicate " + n}
	}
	cseq := req.CSeq()
	if cseq.SeqNo > math.MaxInt32 {
		return &rejection{code: 400, reason: "Bad CSeq"}
	}
	if !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return &rejection{code: 400, reason: "CSeq Method Mismatch"}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() > 255 {
		return &rejection{code: 400, reason: "Bad Max-Forwards"}
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return &rejection{code: 400, reason: "Content-Length Mismatch"}
	}
	if req.IsAck() || req.IsCancel() {
		return nil
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return &rejection{code: 416, reason: "Unsupported URI Scheme"}
	}
	if len(req.Recipient.Headers) > 0 {
		// RFC 3261 19.1.5: headers are not allowed in a Request-URI.
		return &rejection{code: 400, reason: "Bad Request-URI"}
	}
	if bad := unsupportedRequire(req); bad != "" {
		return &rejection{code: 420, reason: "Bad Extension", hdrs: [][2]string{{"Unsupported", bad}}}
	}
	switch req.Method {
	case sip.INVITE, sip.UPDATE:
		if len(req.Body()) > 0 {
			// A body without Content-Type is read as SDP, as before (lenient with sloppy UAs).
			ct := "application/sdp"
			if h := req.ContentType(); h != nil {
				ct, _, _ = strings.Cut(h.Value(), ";")
			}
			if !strings.EqualFold(strings.TrimSpace(ct), "application/sdp") {
				return &rejection{code: 415, reason: "Unsupported Media Type", hdrs: [][2]string{{"Accept", "application/sdp"}}}
			}
		}
	case sip.REGISTER:
		// RFC 3261 10.3: the To of a REGISTER is the address of record, a SIP or SIPS URI.
		if s := strings.ToLower(req.To().Address.Scheme); s != "sip" && s != "sips" {
			return &rejection{code: 400, reason: "Bad Address Of Record"}
		}
	}
	return nil
}

// reject answers a request with a validation's response.
func (p *Profile) reject(req *sip.Request, tx sip.ServerTransaction, r *rejection) {
	p.dropped.Add(1)
	res := sip.NewResponseFromRequest(req, r.code, r.reason, nil)
	for _, h := range r.hdrs {
		res.AppendHeader(sip.NewHeader(h[0], h[1]))
	}
	if r.code == 405 || r.code == 501 {
		res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	}
	tx.Respond(res)
}

// rawReject looks at a whole datagram before sipgo parses it. A request sipgo's parser would
// drop without a word (RFC 4475's badinv01, ncl, quotbal, ltgtruri, ...), or one whose framing
// the parser would quietly repair (a Content-Length beyond the datagram, two Content-Lengths),
// gets a stateless response built from its raw header lines: 505 for another SIP version,
// else 400. Responses and garbage yield nil (dropped by the caller or by sipgo).
func rawReject(data []byte, src net.Addr) ([]byte, net.Addr) { return reject(data, src, true) }

// quickReject is rawReject without the check that sipgo can parse the message: the read filter
// leaves that to sipgo's own parse, whose failures are answered afterwards (parsefail.go).
func quickReject(data []byte, src net.Addr) ([]byte, net.Addr) { return reject(data, src, false) }

func reject(data []byte, src net.Addr, parse bool) ([]byte, net.Addr) {
	hdrs, code, reason := rawCheck(data, parse)
	if code == 0 {
		return nil, nil
	}
	res := rawResponse(hdrs, code, reason)
	if res == nil {
		return nil, nil
	}
	return res, rawDestination(hdrs, src)
}

// rawCheck returns the request's headers and the code and reason to refuse it with (0: let
// sipgo have it); with parse, what sipgo's parser refuses is refused too.
func rawCheck(data []byte, parse bool) ([][2]string, int, string) {
	head, body, found := bytes.Cut(data, []byte("\r\n\r\n"))
	if !found {
		head, body, found = bytes.Cut(data, []byte("\n\n"))
	}
	lineEnd := bytes.IndexByte(head, '\n')
	if lineEnd < 0 {
		return nil, 0, ""
	}
	start := strings.TrimSuffix(string(head[:lineEnd]), "\r")
	if strings.HasPrefix(start, "SIP/") {
		return nil, 0, "" // a response: nobody to answer
	}
	hdrs := unfoldHeaders(string(head[lineEnd+1:]))
	method, rest, ok1 := strings.Cut(start, " ")
	uri, version, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || !strings.HasPrefix(version, "SIP/") {
		if !strings.Contains(start, "SIP/") {
			return nil, 0, "" // not SIP at all
		}
		return hdrs, 400, "Bad Request-Line"
	}
	if version != "SIP/2.0" {
		if strings.HasPrefix(strings.TrimRight(version, " \t"), "SIP/") && strings.Trim(version, " \t") != "SIP/2.0" &&
			!strings.ContainsAny(strings.TrimRight(version, " \t"), " \t") {
			return hdrs, 505, "Version Not Supported"
		}
		return hdrs, 400, "Bad Request-Line"
	}
	if uri == "" || strings.ContainsAny(uri, " \t<>") {
		return hdrs, 400, "Bad Request-URI"
	}
	// Content-Length: one, a non-negative integer, no more than the datagram carries (RFC 3261
	// 18.3: a UDP message whose body is shorter than its Content-Length is rejected with 400).
	cls := 0
	for _, h := range hdrs {
		if h[0] != "content-length" {
			continue
		}
		cls++
		n, err := strconv.Atoi(h[1])
		if err != nil || n < 0 {
			return hdrs, 400, "Bad Content-Length"
		}
		if found && n > len(body) {
			return hdrs, 400, "Content-Length Mismatch"
		}
	}
	if cls > 1 {
		return hdrs, 400, "Duplicate Content-Length"
	}
	for _, h := range hdrs {
		switch h[0] {
		case "from", "to":
			// An unquoted display name is tokens and LWS (RFC 3261 25.1; RFC 4475 baddn).
			if lt := strings.IndexByte(h[1], '<'); lt > 0 {
				if dn := strings.TrimSpace(h[1][:lt]); dn != "" && dn[0] != '"' && !isTokens(dn) {
					return hdrs, 400, "Bad Display Name"
				}
			}
		case "contact":
			// A URI with '?' (headers) must be in <> (RFC 3261 20.10; RFC 4475 regbadct).
			if !strings.Contains(h[1], "<") && strings.Contains(h[1], "?") {
				return hdrs, 400, "Bad Contact"
			}
		}
	}
	if scheme, _, ok := strings.Cut(uri, ":"); !ok || !isURIScheme(scheme) {
		return hdrs, 400, "Bad Request-URI"
	} else if s := strings.ToLower(scheme); s != "sip" && s != "sips" && s != "tel" {
		return hdrs, 416, "Unsupported URI Scheme"
	}
	if !parse {
		return nil, 0, ""
	}
	if _, err := sip.ParseMessage(data); err != nil {
		return hdrs, 400, "Bad Request"
	}
	return nil, 0, ""
}

// isTokens reports whether s is tokens separated by LWS. UTF-8 is let through: unquoted
// non-ASCII display names are common in the field, and what RFC 4475 baddn tests is the comma.
func isTokens(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" \t-.!%*_+`'~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// isURIScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1).
func isURIScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// compactNames are RFC 3261's compact header forms, by lower-case letter.
var compactNames = map[string]string{"i": "call-id", "f": "from", "t": "to", "v": "via", "l": "content-length",
	"c": "content-type", "m": "contact", "k": "supported", "s": "subject", "e": "content-encoding"}

// unfoldHeaders splits a header block into (lower-case long name, value) pairs, joining
// continuation lines.
func unfoldHeaders(block string) [][2]string {
	out := make([][2]string, 0, 16)
	for rest := block; rest != ""; {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			out[len(out)-1][1] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = lowerHeaderName(strings.TrimSpace(k))
		if long, ok := compactNames[k]; ok {
			k = long
		}
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out
}

// rawResponse builds a stateless response echoing the request's Via, From, To, Call-ID and
// CSeq lines (RFC 3261 8.2.6.2); without a Via there is nobody to answer.
func rawResponse(hdrs [][2]string, code int, reason string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	vias := 0
	for _, name := range []string{"via", "from", "to", "call-id", "cseq"} {
		for _, h := range hdrs {
			if h[0] != name || strings.ContainsAny(h[1], "\r\n") {
				continue
			}
			v := h[1]
			if name == "via" {
				vias++
			}
			if name == "to" && !strings.Contains(strings.ToLower(v), "tag=") {
				v += ";tag=" + sip.GenerateTagN(16)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", canonicalName(name), v)
			if name != "via" {
				break // one of each
			}
		}
	}
	if vias == 0 {
		return nil
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

func canonicalName(n string) string {
	switch n {
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// rawDestination is where a stateless UDP response to a request with these headers goes: the
// packet's source, with the top Via's port unless it asks for rport (RFC 3261 18.2.2, RFC 3581).
func rawDestination(hdrs [][2]string, src net.Addr) net.Addr {
	ua, ok := src.(*net.UDPAddr)
	if !ok {
		return src
	}
	for _, h := range hdrs {
		if h[0] != "via" {
			continue
		}
		top, _, _ := strings.Cut(h[1], ",")
		sentBy, params, _ := strings.Cut(top, ";")
		for _, p := range strings.Split(params, ";") {
			if strings.EqualFold(strings.TrimSpace(p), "rport") {
				return ua
			}
		}
		f := strings.Fields(sentBy)
		if len(f) == 0 {
			return ua
		}
		hostport := f[len(f)-1]
		if _, port, err := net.SplitHostPort(hostport); err == nil {
			if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
				return &net.UDPAddr{IP: ua.IP, Port: n, Zone: ua.Zone}
			}
		}
		return &net.UDPAddr{IP: ua.IP, Port: 5060, Zone: ua.Zone}
	}
	return ua
}

// normalizeHeaders rewrites a datagram's header section the way RFC 3261 7.3.1 and 25.1 say
// it reads, for sipgo's parser: continuation lines are unfolded, LWS around ';' and '=' of the
// address and Via headers' parameters is dropped ("tag = 98asjd8" is "tag=98asjd8"), and an RFC
// 2543 request (a top Via without a branch, a From without a tag) gets a branch derived from
// its identity, because sipgo matches RFC 2543 transactions by From tag. The body is kept
// byte for byte. data is returned as is when nothing needed doing.
func normalizeHeaders(data []byte) []byte {
	sep := bytes.Index(data, []byte("\r\n\r\n"))
	if sep < 0 {
		return data
	}
	head, body := data[:sep], data[sep+4:]
	if !bytes.Contains(head, []byte("\r\n ")) && !bytes.Contains(head, []byte("\r\n\t")) &&
		!bytes.Contains(head, []byte(" ;")) && !bytes.Contains(head, []byte("; ")) &&
		!bytes.Contains(head, []byte(" =")) && !bytes.Contains(head, []byte("= ")) &&
		bytes.Contains(head, []byte("branch=")) {
		return data // the common case: nothing to rewrite
	}
	lines := strings.Split(string(head), "\r\n")
	if len(lines) < 2 || strings.HasPrefix(lines[0], "SIP/") {
		return data
	}
	changed := false
	var hs []string
	for _, l := range lines[1:] {
		if l != "" && (l[0] == ' ' || l[0] == '\t') && len(hs) > 0 {
			hs[len(hs)-1] += " " + strings.TrimLeft(l, " \t")
			changed = true
			continue
		}
		hs = append(hs, l)
	}
	fromTag, branch, topVia := false, false, -1
	for i, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(k))
		if long, ok := compactNames[name]; ok {
			name = long
		}
		switch name {
		case "from", "to", "via", "contact", "route", "record-route":
		default:
			continue
		}
		nv := tightenParams(v)
		if nv != v {
			hs[i] = k + ":" + nv
			changed = true
		}
		lv := strings.ToLower(nv)
		switch {
		case name == "from" && strings.Contains(lv, ";tag="):
			fromTag = true
		case name == "via" && topVia < 0:
			topVia = i
			first, _, _ := strings.Cut(lv, ",")
			branch = strings.Contains(first, ";branch=")
		}
	}
	if topVia >= 0 && !branch && !fromTag {
		h := fnv64(head)
		k, v, _ := strings.Cut(hs[topVia], ":")
		first, rest, more := strings.Cut(v, ",")
		first = strings.TrimRight(first, " \t") + ";branch=z9hG4bK2543." + strconv.FormatUint(h, 36)
		if more {
			first += "," + rest
		}
		hs[topVia] = k + ":" + first
		changed = true
	}
	if !changed {
		return data
	}
	var b bytes.Buffer
	b.Grow(len(data) + 48)
	b.WriteString(lines[0])
	for _, h := range hs {
		b.WriteString("\r\n")
		b.WriteString(h)
	}
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// tightenParams drops LWS next to ';' and '=' outside quoted strings and <>.
func tightenParams(v string) string {
	if !strings.ContainsAny(v, ";=") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	quoted, angle, esc := false, false, false
	pendingSpace := false
	lastSep := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if quoted {
			b.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				quoted = false
			}
			continue
		}
		if (c == ' ' || c == '\t') && !angle {
			pendingSpace = true
			continue
		}
		sep := !angle && (c == ';' || c == '=')
		if pendingSpace && !sep && !lastSep {
			b.WriteByte(' ')
		}
		pendingSpace = false
		switch c {
		case '"':
			quoted = !angle
		case '<':
			angle = true
		case '>':
			angle = false
		}
		b.WriteByte(c)
		lastSep = sep
	}
	if pendingSpace && !lastSep {
		b.WriteByte(' ')
	}
	return b.String()
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// largeUDPTx sends final responses too big for sipgo's UDP path (it refuses anything over
// UDPMTUSize-200 bytes, such as the answer to RFC 4475's longreq with its 30 Vias) straight from
// the profile's socket; everything else goes through the transaction.
type largeUDPTx struct {
	sip.ServerTransaction
	p *Profile
}

func (t largeUDPTx) Respond(res *sip.Response) error {
	// Measured in a pooled buffer: every response of every call passes here, and only the rare
	// large one needs the bytes.
	buf := respBufs.Get().(*bytes.Buffer)
	defer respBufs.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	if buf.Len() > sip.UDPMTUSize-200 {
		addr, err := net.ResolveUDPAddr("udp", res.Destination())
		if err != nil {
			return err
		}
		_, err = t.p.udp.WriteTo(buf.Bytes(), addr)
		return err
	}
	return t.ServerTransaction.Respond(res)
}

var respBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// commonHeaderNames are the lower-case names of the headers nearly every request carries:
// lowerHeaderName returns these constants instead of building a lower-case copy per header.
var commonHeaderNames = []string{"via", "from", "to", "call-id", "cseq", "contact", "max-forwards",
	"content-type", "content-length", "user-agent", "allow", "supported", "proxy-authorization",
	"authorization", "route", "record-route", "expires", "session-expires", "min-se", "require",
	"allow-events", "accept", "event", "subject", "privacy", "p-asserted-identity"}

func lowerHeaderName(k string) string {
	for _, n := range commonHeaderNames {
		if len(n) == len(k) && strings.EqualFold(n, k) {
			return n
		}
	}
	return strings.ToLower(k)
}
