package dialplan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// matchTimeout bounds a backtracking (regexp2) match so a pathological
// pattern cannot stall a call's routing.
const matchTimeout = 200 * time.Millisecond

// matcher is one compiled dialplan expression. Patterns RE2 accepts run on
// Go's regexp (linear time, no allocation for a plain test); the rest
// (lookaround, backreferences, atomic groups: PCRE features vanilla uses,
// e.g. `^((?!6000)60\d{2})$`) run on regexp2.
type matcher struct {
	src  string // the expression as written (after $${} preprocessing)
	re   *regexp.Regexp
	re2  *regexp2.Regexp
	ngrp int // number of capture groups
}

// pcreSource turns a FreeSWITCH expression into the pattern PCRE2 would see
// and its flags, as switch_regex_perform does: a leading `_` is an Asterisk
// pattern, `/re/flags` carries i (caseless) and s (dotall).
func pcreSource(expr string) (pat string, caseless, dotall bool, err error) {
	pat = expr
	if strings.HasPrefix(pat, "_") {
		pat = ast2regex(pat[1:])
	}
	if strings.HasPrefix(pat, "/") {
		body := pat[1:]
		i := strings.LastIndexByte(body, '/')
		if i < 0 {
			return "", false, false, fmt.Errorf("expression %q is missing the ending '/' delimiter", expr)
		}
		opts := body[i+1:]
		pat = body[:i]
		caseless = strings.IndexByte(opts, 'i') >= 0
		dotall = strings.IndexByte(opts, 's') >= 0
	}
	return pat, caseless, dotall, nil
}

// ast2regex converts an Asterisk extension pattern the way switch_ast2regex
// does: N=[2-9], X=[0-9], Z=[1-9], .=.*, anchored; only upper-case letters
// are special (Asterisk itself is case-insensitive; FreeSWITCH is not).
func ast2regex(p string) string {
	var b strings.Builder
	b.WriteByte('^')
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case 'N':
			b.WriteString("[2-9]")
		case 'X':
			b.WriteString("[0-9]")
		case 'Z':
			b.WriteString("[1-9]")
		case '.':
			b.WriteString(".*")
		default:
			b.WriteByte(p[i])
		}
	}
	b.WriteByte('$')
	return b.String()
}

func compileMatcher(expr string) (*matcher, error) {
	pat, caseless, dotall, err := pcreSource(expr)
	if err != nil {
		return nil, err
	}
	m := &matcher{src: expr}
	goPat := pat
	var flags string
	if caseless {
		flags += "i"
	}
	if dotall {
		flags += "s"
	}
	if flags != "" {
		goPat = "(?" + flags + ")" + pat
	}
	if re, err := regexp.Compile(goPat); err == nil && !pcreDiffers(pat) {
		m.re = re
		m.ngrp = re.NumSubexp()
		return m, nil
	}
	opt := regexp2.None
	if caseless {
		opt |= regexp2.IgnoreCase
	}
	if dotall {
		opt |= regexp2.Singleline
	}
	re2, err := regexp2.Compile(pat, opt)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression /%s/: %v", expr, err)
	}
	re2.MatchTimeout = matchTimeout
	m.re2 = re2
	nums := re2.GetGroupNumbers()
	for _, n := range nums {
		if n > m.ngrp {
			m.ngrp = n
		}
	}
	return m, nil
}

// pcreDiffers reports patterns RE2 accepts but reads differently from PCRE:
// `\v` (vertical whitespace class vs vertical tab) and `\Z`-like escapes RE2
// rejects anyway. Those go to regexp2.
func pcreDiffers(pat string) bool {
	return strings.Contains(pat, `\v`)
}

// test reports whether subject matches, without collecting captures.
func (m *matcher) test(subject string) bool {
	if m.re != nil {
		return m.re.MatchString(subject)
	}
	ok, err := m.re2.MatchString(subject)
	return err == nil && ok
}

// match returns the capture groups (index 0 = whole match) of a successful
// match; ok=false when it does not match. groups[i] is nil-equivalent
// (set[i]=false) for groups that did not take part.
func (m *matcher) match(subject string) (c captures, ok bool) {
	if m.re != nil {
		idx := m.re.FindStringSubmatchIndex(subject)
		if idx == nil {
			return captures{}, false
		}
		return captures{subject: subject, idx: idx}, true
	}
	mt, err := m.re2.FindStringMatch(subject)
	if err != nil || mt == nil {
		return captures{}, false
	}
	idx := make([]int, 2*(m.ngrp+1))
	for i := range idx {
		idx[i] = -1
	}
	off := func(r int) int { return r }
	if !isASCII(subject) {
		runes := []rune(subject) // regexp2 reports rune offsets
		off = func(r int) int { return len(string(runes[:r])) }
	}
	for n := 0; n <= m.ngrp; n++ {
		g := mt.GroupByNumber(n)
		if g == nil || len(g.Captures) == 0 {
			continue
		}
		idx[2*n] = off(g.Index)
		idx[2*n+1] = off(g.Index + g.Length)
	}
	return captures{subject: subject, idx: idx}, true
}

// captures are a successful match's groups, as byte offsets into subject.
type captures struct {
	subject string
	idx     []int
}

// count is PCRE2's match count: highest group that took part, plus one.
func (c captures) count() int {
	n := 0
	for i := 0; 2*i+1 < len(c.idx); i++ {
		if c.idx[2*i] >= 0 {
			n = i + 1
		}
	}
	return n
}

// group returns group n and whether it took part in the match.
func (c captures) group(n int) (string, bool) {
	if n < 0 || 2*n+1 >= len(c.idx) || c.idx[2*n] < 0 {
		return "", false
	}
	return c.subject[c.idx[2*n]:c.idx[2*n+1]], true
}

// dpMatchValue builds the value switch_capture_regex leaves in DP_MATCH (or
// DP_REGEX_MATCH_n): every group that took part is pushed onto the variable,
// so one value is plain and several become FreeSWITCH's "ARRAY::a|:b" form.
func (c captures) dpMatchValue() string {
	n := c.count()
	var vals []string
	for i := 0; i < n; i++ {
		if g, ok := c.group(i); ok {
			vals = append(vals, g)
		}
	}
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return "ARRAY::" + strings.Join(vals, "|:")
}

// substitute replaces $N and ${N} in data with this match's groups, exactly
// as switch_perform_substitution parses them: `$` not followed by a digit
// (so `${var}`) is copied untouched; a group that did not take part or does
// not exist (N > 256 included) yields "". FreeSWITCH also truncates the
// result to len(data)+len(subject)+9 bytes; we do not copy that truncation
// (it silently cuts long bridge strings and is no design).
func (c captures) substitute(data string) string {
	if strings.IndexByte(data, '$') < 0 {
		return data
	}
	var b strings.Builder
	b.Grow(len(data) + len(c.subject))
	for x := 0; x < len(data); {
		if data[x] != '$' {
			b.WriteByte(data[x])
			x++
			continue
		}
		x++
		brace := x < len(data) && data[x] == '{'
		start := x
		if brace {
			start++
		}
		end := start
		for end < len(data) && data[end] >= '0' && data[end] <= '9' && end-start < 9 {
			end++
		}
		if end == start || (brace && (end >= len(data) || data[end] != '}')) {
			b.WriteByte('$')
			continue
		}
		num, _ := strconv.Atoi(data[start:end])
		if num <= 256 {
			if g, ok := c.group(num); ok {
				b.WriteString(g)
			}
		}
		x = end
		if brace {
			x++
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
