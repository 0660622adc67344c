package api

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/google/uuid"
	"github.com/ncruces/go-strftime"

	"github.com/goswitch/goswitch/core"
)

func init() {
	register("strftime", "<format_string>", "strftime", apiStrftime)
	register("strepoch", "<string>", "Convert a date string into epoch time", apiStrepoch)
	register("create_uuid", "<uuid> <other_uuid>", "Create a uuid", func(_ context.Context, _ *core.Host, _ string, w io.Writer) error {
		return write(w, uuid.NewString())
	})
	register("regex", "<data>|<pattern>[|<subst string>][n|b]", "Evaluate a regex", apiRegex)
	register("cond", "<expr> ? <true val> : <false val>", "Evaluate a conditional", apiCond)
	register("md5", "<data>", "Return md5 hash", func(_ context.Context, _ *core.Host, args string, w io.Writer) error {
		sum := md5.Sum([]byte(args))
		return write(w, hex.EncodeToString(sum[:]))
	})
	register("expr", "<expr>", "Eval an expression", apiExpr)
	register("hash", "[insert|delete|select]/<realm>/<key>/<value>", "hash get/set", apiHash)
	register("user_data", "<user>@<domain> [var|param|attr] <name>", "Find user data", apiUserData)
	register("user_exists", "<key> <user> <domain>", "Find a user", apiUserExists)
	register("domain_exists", "<domain>", "Check if a domain exists", func(_ context.Context, h *core.Host, args string, w io.Writer) error {
		snap := h.Config()
		ok := snap != nil && snap.Directory() != nil && snap.Directory().Domain(strings.TrimSpace(args)) != nil
		return write(w, strconv.FormatBool(ok))
	})
	register("module_exists", "<module>", "Check if module exists", func(_ context.Context, _ *core.Host, args string, w io.Writer) error {
		name := strings.TrimSpace(args)
		for _, m := range moduleNames() {
			if m == name {
				return write(w, "true")
			}
		}
		return write(w, "false")
	})
}

func apiStrftime(_ context.Context, _ *core.Host, args string, w io.Writer) error {
	now := time.Now()
	format := args
	if ep, rest, ok := strings.Cut(args, "|"); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(ep), 10, 64); err == nil {
			now, format = time.Unix(n, 0), rest
		}
	}
	if strings.TrimSpace(format) == "" {
		format = "%Y-%m-%d %T"
	}
	return write(w, strftime.Format(format, now.Local()))
}

func apiStrepoch(_ context.Context, _ *core.Host, args string, w io.Writer) error {
	args = strings.TrimSpace(args)
	if args == "" {
		return write(w, strconv.FormatInt(time.Now().Unix(), 10))
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", time.RFC1123, time.RFC3339} {
		if t, err := time.ParseInLocation(layout, args, time.Local); err == nil {
			return write(w, strconv.FormatInt(t.Unix(), 10))
		}
	}
	return write(w, "0")
}

// apiRegex is mod_commands' regex: "data|pattern[|subst]" (or m:<d>data<d>pattern<d>subst with
// any delimiter). Without subst it prints true/false; with subst the substitution ($1..$9) on a
// match, else the data unchanged.
func apiRegex(_ context.Context, _ *core.Host, args string, w io.Writer) error {
	sep := "|"
	if strings.HasPrefix(args, "m:") && len(args) > 3 {
		sep = args[2:3]
		args = args[3:]
	}
	parts := strings.SplitN(args, sep, 3)
	if len(parts) < 2 {
		return write(w, "-ERR")
	}
	data, pattern := parts[0], parts[1]
	ci := false
	if strings.HasPrefix(pattern, "/") && len(pattern) > 1 {
		if end := strings.LastIndexByte(pattern, '/'); end > 0 {
			ci = strings.Contains(pattern[end+1:], "i")
			pattern = pattern[1:end]
		}
	}
	opts := regexp2.RegexOptions(0)
	if ci {
		opts = regexp2.IgnoreCase
	}
	re, err := regexp2.Compile(pattern, opts)
	if err != nil {
		return write(w, "-ERR")
	}
	m, _ := re.FindStringMatch(data)
	if len(parts) < 3 {
		return write(w, strconv.FormatBool(m != nil))
	}
	if m == nil {
		return write(w, data)
	}
	return write(w, substitute(parts[2], m))
}

// substitute replaces $0..$9 (and ${n}) with the match's groups, as perform_substitution does.
func substitute(tmpl string, m *regexp2.Match) string {
	groups := m.Groups()
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) {
			i++
			b.WriteByte(tmpl[i])
			continue
		}
		if c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9' {
			n := int(tmpl[i+1] - '0')
			if n < len(groups) {
				b.WriteString(groups[n].String())
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// apiCond is mod_commands' cond: "<a> <op> <b> ? <true> : <false>" with ==, !=, >, >=, <, <=;
// numbers compare as numbers, other values as strings. Values may be quoted with single quotes.
func apiCond(_ context.Context, _ *core.Host, args string, w io.Writer) error {
	q := strings.Index(args, "?")
	if q < 0 {
		return write(w, "-ERR")
	}
	expr, rest := strings.TrimSpace(args[:q]), args[q+1:]
	colon := strings.Index(rest, ":")
	if colon < 0 {
		return write(w, "-ERR")
	}
	tv, fv := strings.TrimSpace(rest[:colon]), strings.TrimSpace(rest[colon+1:])
	var a, op, b string
	for _, o := range []string{"==", "!=", ">=", "<=", ">", "<"} {
		if i := strings.Index(expr, o); i >= 0 {
			a, op, b = strings.TrimSpace(expr[:i]), o, strings.TrimSpace(expr[i+len(o):])
			break
		}
	}
	var res bool
	if op == "" {
		res = expr != "" && expr != "0" && !strings.EqualFold(expr, "false")
	} else {
		a, b = unquote(a), unquote(b)
		fa, ea := strconv.ParseFloat(a, 64)
		fb, eb := strconv.ParseFloat(b, 64)
		cmp := strings.Compare(a, b)
		if ea == nil && eb == nil {
			switch {
			case fa < fb:
				cmp = -1
			case fa > fb:
				cmp = 1
			default:
				cmp = 0
			}
		}
		switch op {
		case "==":
			res = cmp == 0
		case "!=":
			res = cmp != 0
		case ">":
			res = cmp > 0
		case ">=":
			res = cmp >= 0
		case "<":
			res = cmp < 0
		case "<=":
			res = cmp <= 0
		}
	}
	if res {
		return write(w, unquote(tv))
	}
	return write(w, unquote(fv))
}

func apiExpr(_ context.Context, _ *core.Host, args string, w io.Writer) error {
	p := &exprParser{s: strings.ReplaceAll(args, " ", "")}
	v, ok := p.expr()
	if !ok || p.i != len(p.s) {
		return write(w, "-ERR")
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return write(w, strconv.FormatInt(int64(v), 10))
	}
	return write(w, strconv.FormatFloat(v, 'f', -1, 64))
}

// exprParser evaluates + - * / % ^ and parentheses over numbers.
type exprParser struct {
	s string
	i int
}

func (p *exprParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *exprParser) expr() (float64, bool) {
	v, ok := p.term()
	for ok {
		switch p.peek() {
		case '+':
			p.i++
			r, ok2 := p.term()
			v, ok = v+r, ok2
		case '-':
			p.i++
			r, ok2 := p.term()
			v, ok = v-r, ok2
		default:
			return v, ok
		}
	}
	return v, ok
}

func (p *exprParser) term() (float64, bool) {
	v, ok := p.power()
	for ok {
		switch p.peek() {
		case '*':
			p.i++
			r, ok2 := p.power()
			v, ok = v*r, ok2
		case '/':
			p.i++
			r, ok2 := p.power()
			if r == 0 {
				return 0, false
			}
			v, ok = v/r, ok2
		case '%':
			p.i++
			r, ok2 := p.power()
			if r == 0 {
				return 0, false
			}
			v, ok = math.Mod(v, r), ok2
		default:
			return v, ok
		}
	}
	return v, ok
}

func (p *exprParser) power() (float64, bool) {
	v, ok := p.unary()
	if ok && p.peek() == '^' {
		p.i++
		r, ok2 := p.power()
		return math.Pow(v, r), ok2
	}
	return v, ok
}

func (p *exprParser) unary() (float64, bool) {
	switch p.peek() {
	case '-':
		p.i++
		v, ok := p.unary()
		return -v, ok
	case '+':
		p.i++
		return p.unary()
	case '(':
		p.i++
		v, ok := p.expr()
		if !ok || p.peek() != ')' {
			return 0, false
		}
		p.i++
		return v, true
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
		p.i++
	}
	v, err := strconv.ParseFloat(p.s[start:p.i], 64)
	return v, err == nil
}

// apiHash is mod_hash's API: insert/<realm>/<key>/<value>, insert_ifempty, select/<realm>/<key>,
// delete/<realm>/<key>, delete_ifmatch/<realm>/<key>/<value>.
func apiHash(_ context.Context, h *core.Host, args string, w io.Writer) error {
	parts := strings.SplitN(strings.TrimSpace(args), "/", 4)
	if len(parts) < 3 {
		return write(w, "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<val>\n")
	}
	st := state(h)
	key := parts[1] + "_" + parts[2]
	st.mu.Lock()
	defer st.mu.Unlock()
	switch strings.ToLower(parts[0]) {
	case "insert":
		if len(parts) < 4 {
			return write(w, "-ERR Not enough args\n")
		}
		st.hash[key] = parts[3]
		return write(w, "+OK\n")
	case "insert_ifempty":
		if len(parts) < 4 {
			return write(w, "-ERR Not enough args\n")
		}
		if _, ok := st.hash[key]; ok {
			return write(w, "-ERR key already exists\n")
		}
		st.hash[key] = parts[3]
		return write(w, "+OK\n")
	case "delete":
		delete(st.hash, key)
		return write(w, "+OK\n")
	case "delete_ifmatch":
		if len(parts) < 4 || st.hash[key] != parts[3] {
			return write(w, "-ERR Doesn't match\n")
		}
		delete(st.hash, key)
		return write(w, "+OK\n")
	case "select":
		return write(w, st.hash[key])
	}
	return write(w, "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<val>\n")
}

func apiUserData(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 3 {
		return nil
	}
	user, domain, _ := strings.Cut(f[0], "@")
	snap := h.Config()
	if snap == nil || snap.Directory() == nil {
		return nil
	}
	if domain == "" {
		domain, _ = h.Global("domain")
	}
	u := snap.Directory().User(user, domain)
	if u == nil {
		return nil
	}
	switch strings.ToLower(f[1]) {
	case "var":
		return write(w, u.Var(f[2]))
	case "param":
		return write(w, u.Param(f[2]))
	case "attr":
		switch f[2] {
		case "id":
			return write(w, u.ID)
		case "number-alias":
			return write(w, u.NumberAlias)
		case "cidr":
			return write(w, u.CIDR)
		case "mailbox":
			return write(w, u.Mailbox)
		}
		if u.Element != nil {
			return write(w, u.Element.SelectAttrValue(f[2], ""))
		}
	}
	return nil
}

func apiUserExists(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 3 {
		return write(w, "false")
	}
	snap := h.Config()
	if snap == nil || snap.Directory() == nil {
		return write(w, "false")
	}
	return write(w, strconv.FormatBool(snap.Directory().User(f[1], f[2]) != nil))
}
