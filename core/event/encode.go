package event

import (
	"strconv"
	"strings"
)

// Serialisations of an event exactly as FreeSWITCH writes them on the event socket
// (switch_event_serialize, switch_event_serialize_json, switch_event_xmlize).

const hexDigits = "0123456789ABCDEF"

// urlUnsafe are the characters switch_url_encode escapes besides non-printables.
const urlUnsafe = "\r\n \"#%&+:;<=>?@[\\]^`{|}"

// mustEncode[c] is true for bytes switch_url_encode escapes.
var mustEncode = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c < ' ' || c > '~' || strings.IndexByte(urlUnsafe, byte(c)) >= 0
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

// AppendURLEncoded appends v encoded like FreeSWITCH's switch_url_encode: CR, LF, space,
// `"#%&+:;<=>?@[\]^`{|}` and bytes outside 0x20..0x7E become %XX (upper-case hex). An existing
// %XX escape is copied as is, so an already encoded value is not encoded twice.
func AppendURLEncoded(dst []byte, v string) []byte {
	i := 0
	for i < len(v) && !mustEncode[v[i]] {
		i++
	}
	dst = append(dst, v[:i]...)
	for ; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			dst = append(dst, c)
			continue
		}
		if mustEncode[c] {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// URLEncode returns v encoded like switch_url_encode.
func URLEncode(v string) string { return string(AppendURLEncoded(nil, v)) }

// URLDecode reverses URLEncode (switch_url_decode: %XX and '+' as space).
func URLDecode(v string) string {
	if strings.IndexByte(v, '%') < 0 && strings.IndexByte(v, '+') < 0 {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			n, _ := strconv.ParseUint(v[i+1:i+3], 16, 8)
			b = append(b, byte(n))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// arrayItems splits FreeSWITCH's ARRAY::a|:b form.
func arrayItems(v string) ([]string, bool) {
	if !strings.HasPrefix(v, "ARRAY::") {
		return nil, false
	}
	return strings.Split(v[len("ARRAY::"):], "|:"), true
}

// AppendPlain appends the text/event-plain serialisation: `Name: <url-encoded value>\n` per
// header (an empty value is written `_undef_`), then either a blank line or, when the event has a
// body, `Content-Length: N\n\n<body>`.
func (e *Event) AppendPlain(dst []byte) []byte {
	for _, h := range e.Headers {
		dst = append(dst, h.Name...)
		dst = append(dst, ':', ' ')
		if h.Value == "" {
			dst = append(dst, "_undef_"...)
		} else {
			dst = AppendURLEncoded(dst, h.Value)
		}
		dst = append(dst, '\n')
	}
	if e.Body != "" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(e.Body)), 10)
		dst = append(dst, '\n', '\n')
		dst = append(dst, e.Body...)
	} else {
		dst = append(dst, '\n')
	}
	return dst
}

// Plain returns the text/event-plain serialisation.
func (e *Event) Plain() []byte {
	return e.AppendPlain(make([]byte, 0, 64*len(e.Headers)+len(e.Body)+16))
}

// AppendJSON appends the text/event-json serialisation: one unformatted object (cJSON's
// PrintUnformatted), values as strings, ARRAY:: headers as arrays, and for a body
// "Content-Length" and "_body". A repeated header name is written once per occurrence, as cJSON
// does.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	field := func(name string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, name)
		dst = append(dst, ':')
	}
	for _, h := range e.Headers {
		field(h.Name)
		if items, ok := arrayItems(h.Value); ok {
			dst = append(dst, '[')
			for i, it := range items {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = AppendJSONString(dst, it)
			}
			dst = append(dst, ']')
			continue
		}
		dst = AppendJSONString(dst, h.Value)
	}
	if e.Body != "" {
		field("Content-Length")
		dst = AppendJSONString(dst, strconv.Itoa(len(e.Body)))
		field("_body")
		dst = AppendJSONString(dst, e.Body)
	}
	return append(dst, '}')
}

// JSON returns the text/event-json serialisation.
func (e *Event) JSON() []byte { return e.AppendJSON(make([]byte, 0, 80*len(e.Headers)+len(e.Body)+32)) }

// AppendJSONString appends s as a JSON string, escaped like cJSON: quote, backslash, \b \f \n \r \t, other control bytes as
// \u00XX; everything else (UTF-8 included) is copied.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4]|0x20, hexDigits[c&15]|0x20)
				continue
			}
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// AppendXML appends the text/event-xml serialisation (switch_event_xmlize rendered by
// switch_xml_toxml): header values url-encoded then XML-escaped, two-space indentation, and for a
// body `<Content-Length>` and `<body>` after `</headers>`.
func (e *Event) AppendXML(dst []byte) []byte {
	dst = append(dst, "<event>\n  <headers>\n"...)
	leaf := func(indent, name, value string, encode bool) {
		dst = append(dst, indent...)
		dst = append(dst, '<')
		dst = append(dst, name...)
		dst = append(dst, '>')
		if encode {
			value = URLEncode(value)
		}
		dst = appendXMLText(dst, value)
		dst = append(dst, "</"...)
		dst = append(dst, name...)
		dst = append(dst, ">\n"...)
	}
	for _, h := range e.Headers {
		if items, ok := arrayItems(h.Value); ok {
			for _, it := range items {
				leaf("    ", h.Name, it, true)
			}
			continue
		}
		leaf("    ", h.Name, h.Value, true)
	}
	dst = append(dst, "  </headers>\n"...)
	if e.Body != "" {
		leaf("  ", "Content-Length", strconv.Itoa(len(e.Body)), true)
		leaf("  ", "body", e.Body, false)
	}
	return append(dst, "</event>"...)
}

// XML returns the text/event-xml serialisation.
func (e *Event) XML() []byte { return e.AppendXML(make([]byte, 0, 96*len(e.Headers)+len(e.Body)+64)) }

// appendXMLText escapes like switch_xml_ampencode for text: & < > and CR.
func appendXMLText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '\r':
			dst = append(dst, "&#xD;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ParsePlain reads a text/event-plain serialisation back into an event (what ESL clients do and
// what sendevent bodies contain). Values are url-decoded; `_undef_` stays as written.
func ParsePlain(data []byte) *Event {
	e := &Event{}
	s := string(data)
	for len(s) > 0 {
		nl := strings.IndexByte(s, '\n')
		line := s
		if nl >= 0 {
			line, s = s[:nl], s[nl+1:]
		} else {
			s = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			name, value, _ = strings.Cut(line, ":")
		}
		if strings.EqualFold(name, "Content-Length") {
			n, _ := strconv.Atoi(strings.TrimSpace(value))
			s = strings.TrimPrefix(strings.TrimPrefix(s, "\r"), "\n")
			if n > len(s) {
				n = len(s)
			}
			e.Body = s[:n]
			s = s[n:]
			continue
		}
		e.Add(name, URLDecode(value))
	}
	e.Name = e.Get("Event-Name")
	e.Subclass = e.Get("Event-Subclass")
	return e
}
