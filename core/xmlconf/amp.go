package xmlconf

import "bytes"

// escapeBareAmpersands rewrites each '&' that does not start a character or
// predefined entity reference into "&amp;". FreeSWITCH's parser (ezxml)
// keeps such ampersands literally, so admins write URLs like
// "http://h/?a=1&b=2" in attribute values; encoding/xml would reject the
// whole tree. Comments and CDATA sections are left alone, and the text keeps
// its line structure so positions stay right.
func escapeBareAmpersands(text []byte) []byte {
	if bytes.IndexByte(text, '&') < 0 {
		return text
	}
	out := make([]byte, 0, len(text)+64)
	for i := 0; i < len(text); {
		switch {
		case bytes.HasPrefix(text[i:], []byte("<!--")):
			j := bytes.Index(text[i+4:], []byte("-->"))
			end := len(text)
			if j >= 0 {
				end = i + 4 + j + 3
			}
			out = append(out, text[i:end]...)
			i = end
		case bytes.HasPrefix(text[i:], []byte("<![CDATA[")):
			j := bytes.Index(text[i+9:], []byte("]]>"))
			end := len(text)
			if j >= 0 {
				end = i + 9 + j + 3
			}
			out = append(out, text[i:end]...)
			i = end
		case text[i] == '&' && !isReference(text[i:]):
			out = append(out, "&amp;"...)
			i++
		default:
			out = append(out, text[i])
			i++
		}
	}
	return out
}

// isReference reports whether s starts with &lt; &gt; &amp; &quot; &apos;
// &#digits; or &#xhex;.
func isReference(s []byte) bool {
	for _, e := range []string{"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"} {
		if bytes.HasPrefix(s, []byte(e)) {
			return true
		}
	}
	if !bytes.HasPrefix(s, []byte("&#")) {
		return false
	}
	s = s[2:]
	hex := len(s) > 0 && s[0] == 'x'
	if hex {
		s = s[1:]
	}
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || hex && (s[n]|0x20 >= 'a' && s[n]|0x20 <= 'f')) {
		n++
	}
	return n > 0 && n < len(s) && s[n] == ';'
}
