package playback

import "strings"

// unescape is FreeSWITCH's rule for a backslash in app data: it escapes quotes, blanks and
// itself, and n r t s stand for newline, return, tab and space; any other pair (a regex's \d)
// is kept as written.
func unescape(c byte) (byte, bool) {
	switch c {
	case '\'', '"', ' ', '\\':
		return c, true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 's':
		return ' ', true
	}
	return 0, false
}

// SeparateString splits data the way FreeSWITCH's switch_separate_string does for app arguments:
// blanks separate fields (repeated blanks collapse), single quotes group and are removed, a
// backslash escapes the next character, and once max-1 fields are taken the last field receives
// the rest of the string verbatim (quotes stripped when it is one quoted string). max <= 0 means
// no limit.
func SeparateString(data string, max int) []string {
	var out []string
	i := 0
	for i < len(data) {
		for i < len(data) && data[i] == ' ' {
			i++
		}
		if i >= len(data) {
			break
		}
		if max > 0 && len(out) == max-1 {
			rest := strings.TrimRight(data[i:], " ")
			if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' && !strings.Contains(rest[1:len(rest)-1], "'") {
				rest = rest[1 : len(rest)-1]
			}
			out = append(out, rest)
			break
		}
		var b strings.Builder
		inQuote := false
		for i < len(data) {
			c := data[i]
			if c == '\\' && i+1 < len(data) {
				if e, ok := unescape(data[i+1]); ok {
					b.WriteByte(e)
					i += 2
					continue
				}
			}
			if c == '\'' {
				inQuote = !inQuote
				i++
				continue
			}
			if c == ' ' && !inQuote {
				break
			}
			b.WriteByte(c)
			i++
		}
		out = append(out, b.String())
	}
	return out
}
