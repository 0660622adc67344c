// Package bracket finds the bracket that closes an opening one. It is the one matcher behind
// ${...} expansion (core/expand.go), $${...} preprocessing (core/xmlconf) and the {} [] <> blocks
// of a dial string (core/dialstring.go), as switch_find_end_paren is in FreeSWITCH's
// switch_utils.c. It does not parse what lies between the brackets.
package bracket

// Mode says what the scan skips.
type Mode uint8

const (
	// Plain counts every open and close byte (variable expansion, the preprocessor).
	Plain Mode = iota
	// Quoted skips the byte after a backslash and anything between single quotes (dial-string
	// variable blocks, where values may be quoted: {a='x}y'}).
	Quoted
)

// End returns the index of the byte closing s[open], honouring nesting, or -1 when s[open] is not
// one of ( { [ < or is never closed.
func End(s string, open int, mode Mode) int {
	if open < 0 || open >= len(s) {
		return -1
	}
	o := s[open]
	c := closer(o)
	if c == 0 {
		return -1
	}
	depth := 0
	quoted := false
	for i := open; i < len(s); i++ {
		b := s[i]
		if mode == Quoted {
			switch {
			case b == '\\':
				i++
				continue
			case b == '\'':
				quoted = !quoted
				continue
			case quoted:
				continue
			}
		}
		switch b {
		case o:
			depth++
		case c:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func closer(o byte) byte {
	switch o {
	case '{':
		return '}'
	case '[':
		return ']'
	case '<':
		return '>'
	case '(':
		return ')'
	}
	return 0
}
