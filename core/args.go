package core

import "strings"

// SplitArgs is FreeSWITCH's switch_separate_string on blanks, used by most applications: single
// quotes group words (and are removed), a backslash escapes the next character, repeated blanks
// collapse, and once max-1 arguments are taken the last one receives the rest of the string
// verbatim. max <= 0 means no limit.
func SplitArgs(s string, max int) []string {
	var out []string
	s = strings.TrimLeft(s, " \t")
	for s != "" {
		if max > 0 && len(out) == max-1 {
			out = append(out, unquote(strings.TrimRight(s, " \t")))
			break
		}
		var b strings.Builder
		quoted := false
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == '\'' {
				quoted = !quoted
				continue
			}
			if !quoted && (c == ' ' || c == '\t') {
				break
			}
			b.WriteByte(c)
		}
		out = append(out, b.String())
		s = strings.TrimLeft(s[i:], " \t")
	}
	return out
}

// unquote removes one pair of surrounding single quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}
