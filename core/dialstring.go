package core

import (
	"errors"
	"strings"

	"github.com/goswitch/goswitch/core/internal/bracket"
)

// DialVars are variables from a {...}, [...] or <...> block, in order.
type DialVars [][2]string

// Get returns the last value of name.
func (v DialVars) Get(name string) (string, bool) {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i][0] == name {
			return v[i][1], true
		}
	}
	return "", false
}

// DialLeg is one target: endpoint/data with its [] variables.
type DialLeg struct {
	Vars     DialVars
	Endpoint string // "sofia", "user", "loopback", "error", ...
	Target   string // everything after the first '/'
}

// String returns the leg in dial-string form (without variables).
func (l DialLeg) String() string { return l.Endpoint + "/" + l.Target }

// DialGroup is a ","-separated set of legs rung at the same time.
type DialGroup struct {
	Vars DialVars // a {} block at the head of this "|" part
	Legs []DialLeg
}

// DialSeq is a "|"-separated list of groups tried one after another.
type DialSeq struct {
	Vars   DialVars // {} at the head of this ":_:" part
	Groups []DialGroup
}

// DialString is a parsed FreeSWITCH dial string.
type DialString struct {
	Enterprise DialVars  // <...> variables for every part
	Seqs       []DialSeq // ":_:"-separated parts, run in parallel
}

// ErrEmptyDialString is returned for a dial string with no target.
var ErrEmptyDialString = errors.New("empty dial string")

// ParseDialString parses FreeSWITCH's grammar (FS-COMPAT 4.1): <vars> {vars} [vars]endpoint/data,
// "," simultaneous, "|" sequential, ":_:" enterprise. Values may be quoted with '...', "\," escapes
// the separator, and a leading "^^X" in a block switches the separator to X.
func ParseDialString(s string) (*DialString, error) {
	s = strings.TrimSpace(s)
	ds := &DialString{}
	if strings.HasPrefix(s, "<") {
		end := bracket.End(s, 0, bracket.Quoted)
		if end < 0 {
			return nil, errors.New("unterminated <> block")
		}
		ds.Enterprise = parseVarBlock(s[1:end])
		s = s[end+1:]
	}
	for _, part := range splitTop(s, ":_:") {
		seq := DialSeq{}
		part = strings.TrimSpace(part)
		var err error
		seq.Vars, part, err = leadingBlock(part, '{', '}')
		if err != nil {
			return nil, err
		}
		for _, gpart := range splitTop(part, "|") {
			g := DialGroup{}
			gpart = strings.TrimSpace(gpart)
			g.Vars, gpart, err = leadingBlock(gpart, '{', '}')
			if err != nil {
				return nil, err
			}
			for _, lpart := range splitTop(gpart, ",") {
				lpart = strings.TrimSpace(lpart)
				var lv DialVars
				for strings.HasPrefix(lpart, "[") {
					var more DialVars
					more, lpart, err = leadingBlock(lpart, '[', ']')
					if err != nil {
						return nil, err
					}
					lv = append(lv, more...)
					lpart = strings.TrimSpace(lpart)
				}
				if lpart == "" {
					continue // e.g. an empty ${verto_contact()} in a directory dial-string
				}
				ep, target, _ := strings.Cut(lpart, "/")
				g.Legs = append(g.Legs, DialLeg{Vars: lv, Endpoint: ep, Target: target})
			}
			if len(g.Legs) > 0 {
				seq.Groups = append(seq.Groups, g)
			}
		}
		if len(seq.Groups) > 0 {
			ds.Seqs = append(ds.Seqs, seq)
		}
	}
	if len(ds.Seqs) == 0 {
		return nil, ErrEmptyDialString
	}
	return ds, nil
}

// leadingBlock strips one leading open...close block and parses its variables.
func leadingBlock(s string, open, close byte) (DialVars, string, error) {
	if !strings.HasPrefix(s, string(open)) {
		return nil, s, nil
	}
	end := bracket.End(s, 0, bracket.Quoted)
	if end < 0 {
		return nil, s, errors.New("unterminated " + string(open) + string(close) + " block")
	}
	return parseVarBlock(s[1:end]), s[end+1:], nil
}

// splitTop splits s on sep outside {} [] <> blocks, quotes and escapes.
func splitTop(s, sep string) []string {
	var out []string
	depth := 0
	quoted := false
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			continue
		case c == '\'':
			quoted = !quoted
			continue
		case quoted:
			continue
		case c == '{' || c == '[' || c == '<' || c == '(':
			depth++
			continue
		case c == '}' || c == ']' || c == '>' || c == ')':
			depth--
			continue
		}
		if depth == 0 && strings.HasPrefix(s[i:], sep) {
			out = append(out, s[last:i])
			i += len(sep) - 1
			last = i + 1
		}
	}
	return append(out, s[last:])
}

// parseVarBlock parses "a=1,b='x,y',c=z" (or "^^:a=1:b=2").
func parseVarBlock(body string) DialVars {
	sep := byte(',')
	if strings.HasPrefix(body, "^^") && len(body) > 2 {
		sep = body[2]
		body = body[3:]
	}
	var out DialVars
	var cur strings.Builder
	quoted := false
	flush := func() {
		item := strings.TrimSpace(cur.String())
		cur.Reset()
		if item == "" {
			return
		}
		k, v, _ := strings.Cut(item, "=")
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out = append(out, [2]string{strings.TrimSpace(k), v})
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			cur.WriteByte(body[i])
		case c == '\'':
			quoted = !quoted
			cur.WriteByte(c)
		case c == sep && !quoted:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}
