package core

import (
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/internal/bracket"
)

// Expander performs FreeSWITCH's variable expansion (switch_channel_expand_variables):
// ${name}, ${name:offset[:length]}, ${name[idx]}, ${api(args)}, ${api args}, $${global}, \$ escapes,
// nesting (${${name}}), and recursive expansion of retrieved values.
type Expander struct {
	Var    func(name string) (string, bool) // channel lookup: vars, profile fields, globals
	Global func(name string) (string, bool) // $${name}
	API    func(cmd, args string) string    // ${cmd(args)}; nil disables API calls
}

// maxExpandDepth bounds recursion so a variable that refers to itself cannot loop forever.
const maxExpandDepth = 16

// Expand returns s with every reference replaced. Missing variables expand to "".
func (x *Expander) Expand(s string) string { return x.expand(s, 0) }

func (x *Expander) expand(s string, depth int) string {
	if depth > maxExpandDepth || strings.IndexByte(s, '$') < 0 && strings.IndexByte(s, '\\') < 0 {
		return s
	}
	// Fast path for a template that is exactly one ${...}: no builder, no copy.
	if len(s) > 3 && s[0] == '$' && s[1] == '{' && bracket.End(s, 1, bracket.Plain) == len(s)-1 {
		return x.reference(s[2:len(s)-1], depth)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		global := false
		j := i + 1
		if j < len(s) && s[j] == '$' {
			global = true
			j++
		}
		if j >= len(s) || s[j] != '{' {
			b.WriteByte('$')
			continue
		}
		end := bracket.End(s, j, bracket.Plain)
		if end < 0 { // unterminated: keep the text as FreeSWITCH does
			b.WriteString(s[i:])
			break
		}
		inner := s[j+1 : end]
		if global {
			name := x.expand(inner, depth+1)
			if x.Global != nil {
				if v, ok := x.Global(name); ok {
					b.WriteString(x.expand(v, depth+1))
				}
			}
		} else {
			b.WriteString(x.reference(inner, depth))
		}
		i = end
	}
	return b.String()
}

// reference resolves the inside of one ${...}.
func (x *Expander) reference(inner string, depth int) string {
	if k := apiSplit(inner); k > 0 && x.API != nil {
		cmd := inner[:k]
		var args string
		if inner[k] == '(' {
			args = strings.TrimSuffix(inner[k+1:], ")")
		} else {
			args = inner[k+1:]
		}
		return x.API(cmd, x.expand(args, depth+1))
	}
	name := inner
	if strings.IndexByte(name, '$') >= 0 {
		name = x.expand(name, depth+1)
	}
	offset, length, hasSub := 0, -1, false
	idx := -1
	if p := strings.IndexByte(name, '['); p > 0 && strings.HasSuffix(name, "]") {
		if n, err := strconv.Atoi(name[p+1 : len(name)-1]); err == nil {
			idx = n
			name = name[:p]
		}
	} else if p := strings.IndexByte(name, ':'); p > 0 {
		parts := strings.SplitN(name[p+1:], ":", 2)
		if n, err := strconv.Atoi(strings.TrimSpace(parts[0])); err == nil {
			offset, hasSub = n, true
			if len(parts) == 2 {
				if l, err := strconv.Atoi(strings.TrimSpace(parts[1])); err == nil {
					length = l
				}
			}
			name = name[:p]
		}
	}
	if x.Var == nil {
		return ""
	}
	v, ok := x.Var(name)
	if !ok {
		return ""
	}
	if idx >= 0 {
		v = arrayElement(v, idx)
	}
	v = x.expand(v, depth+1)
	if hasSub {
		v = substring(v, offset, length)
	}
	return v
}

// apiSplit returns the index of the '(' or ' ' that makes ${...} an API call, or -1. The command
// name before it must look like an identifier, so "${a b}" calls API "a" but "${(x)}" does not.
func apiSplit(inner string) int {
	for k := 0; k < len(inner); k++ {
		c := inner[k]
		switch {
		case c == '(' || c == ' ':
			if k == 0 {
				return -1
			}
			return k
		case c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
		default:
			return -1
		}
	}
	return -1
}

// substring implements ${var:offset:length}; a negative offset counts from the end.
func substring(v string, offset, length int) string {
	if offset < 0 {
		offset += len(v)
		if offset < 0 {
			offset = 0
		}
	}
	if offset >= len(v) {
		return ""
	}
	v = v[offset:]
	if length >= 0 && length < len(v) {
		v = v[:length]
	}
	return v
}

// arrayElement reads element idx of a FreeSWITCH array value ("ARRAY::a|:b|:c").
func arrayElement(v string, idx int) string {
	if !strings.HasPrefix(v, "ARRAY::") {
		if idx == 0 {
			return v
		}
		return ""
	}
	parts := strings.Split(v[len("ARRAY::"):], "|:")
	if idx < len(parts) {
		return parts[idx]
	}
	return ""
}
