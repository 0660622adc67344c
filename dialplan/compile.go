package dialplan

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/beevik/etree"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Dialplan is the compiled `dialplan` section: every context, extension and
// condition with its regexes compiled once per configuration load. It is
// immutable after Compile and shared by every call hunting on that snapshot.
type Dialplan struct {
	contexts map[string]*Context // by lower-case name (switch_xml_find_child ignores case)
	names    []string            // context names in document order
	// maxRegex is the largest number of <regex> children of one condition,
	// used to clear DP_REGEX_MATCH_<n> without a prefix scan.
	maxRegex int

	// dynamic caches patterns whose expression holds ${...} and so can only
	// be compiled at hunt time. Bounded: after maxDynamic entries, patterns
	// are compiled per use.
	dynamic  sync.Map // string -> *matcher or error
	nDynamic atomic.Int32
	warnings []xmlconf.Diag
	posix    map[string]string // timezones.conf: name -> POSIX TZ rule
	// zones caches time.LoadLocation results by name.
	zones  sync.Map
	nZones atomic.Int32
}

const (
	maxDynamic = 4096 // cached runtime-compiled expressions
	maxZones   = 1024 // cached timezone names
)

// Context is one <context name="...">.
type Context struct {
	Name       string
	Extensions []*Extension
	byName     map[string]int // first extension by lower-case name (auto_hunt)
}

// Extension is one <extension>.
type Extension struct {
	Name     string // "UNKNOWN" in logs when absent
	named    bool
	Continue string // raw attribute, for the log line
	cont     bool   // switch_true(continue)
	hasCont  bool
	Conds    []*Condition
	Pos      string
}

type breakMode uint8

const (
	breakOnFalse breakMode = iota
	breakOnTrue
	breakAlways
	breakNever
)

type regexMode uint8

const (
	regexNone regexMode = iota
	regexAny
	regexAll
	regexXor
)

// Condition is one <condition> (or, for regex="..." conditions, one of its
// <regex> children: then only field, expression and time are used).
type Condition struct {
	field      string
	hasField   bool
	fieldIsTpl bool   // contains '$': expanded as a template
	fieldVar   string // the name when field is exactly ${name} (see hunter.template)
	expr       expr
	brk        breakMode
	breakAttr  string // as written when valid, for the log; "" means on-false
	time       *timeSpec

	mode    regexMode
	regexes []*Condition

	actions []*action
	anti    []*action

	nested        []*Condition
	requireNested bool // require-nested attribute of this condition (as container)
	tooDeep       bool // nested conditions beyond maxRecur: the nested block fails
	hasNestedAttr bool
	pos           string
}

// expr is a condition expression: compiled at load when it has no ${},
// else expanded and compiled per hunt.
type expr struct {
	src     string
	dynamic bool // needs variable expansion at hunt time (see needsExpand)
	hasOpen bool // contains '(' (captures and $N substitution apply)
	m       *matcher
}

type action struct {
	app    string
	data   string
	loop   int
	inline bool
	subst  bool // data contains '$' followed by a digit or "{digit"
}

// PosFunc returns where an element was written (the zero Pos when unknown).
type PosFunc func(*etree.Element) xmlconf.Pos

type compiler struct {
	pos   PosFunc
	diags []xmlconf.Diag
	dp    *Dialplan
}

func (c *compiler) errorf(e *etree.Element, format string, args ...any) {
	c.diags = append(c.diags, xmlconf.Diag{Pos: c.pos1(e), Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) warnf(e *etree.Element, format string, args ...any) {
	c.diags = append(c.diags, xmlconf.Diag{Pos: c.pos1(e), Msg: fmt.Sprintf(format, args...), Warning: true})
}

func (c *compiler) pos1(e *etree.Element) xmlconf.Pos {
	if c.pos == nil || e == nil {
		return xmlconf.Pos{}
	}
	return c.pos(e)
}

func (c *compiler) at(e *etree.Element) string { return c.pos1(e).String() }

// Compile builds the dialplan from the `dialplan` section element (its
// <context> children; <include> wrappers left by the preprocessor are looked
// through). Warnings are returned with a nil error; any error-level
// diagnostic makes err an *xmlconf.Error carrying all of them.
func Compile(section *etree.Element, pos PosFunc) (*Dialplan, []xmlconf.Diag, error) {
	c := &compiler{pos: pos, dp: &Dialplan{contexts: map[string]*Context{}}}
	if section != nil {
		for _, e := range children(section, "context") {
			ctx := c.context(e)
			key := strings.ToLower(ctx.Name)
			if _, dup := c.dp.contexts[key]; dup {
				// switch_xml_find_child returns the first one.
				c.warnf(e, "context %q defined again; the first definition is used", ctx.Name)
				continue
			}
			c.dp.contexts[key] = ctx
			c.dp.names = append(c.dp.names, ctx.Name)
		}
	}
	for _, d := range c.diags {
		if !d.Warning {
			return nil, c.diags, &xmlconf.Error{Diags: c.diags}
		}
	}
	c.dp.warnings = c.diags
	return c.dp, c.diags, nil
}

// children returns e's child elements named tag in document order, looking
// through <include> wrappers (FreeSWITCH's preprocessor strips them; a tree
// that still has them is read as if it did not).
func children(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, ch := range e.ChildElements() {
		switch ch.Tag {
		case tag:
			out = append(out, ch)
		case "include":
			out = append(out, children(ch, tag)...)
		}
	}
	return out
}

func (c *compiler) context(e *etree.Element) *Context {
	ctx := &Context{Name: attrValue(e, "name"), byName: map[string]int{}}
	c.strays(e, "extension")
	for _, xe := range children(e, "extension") {
		ext := c.extension(xe)
		if ext.named {
			key := strings.ToLower(ext.Name)
			if _, ok := ctx.byName[key]; !ok {
				ctx.byName[key] = len(ctx.Extensions)
			}
		}
		ctx.Extensions = append(ctx.Extensions, ext)
	}
	return ctx
}

func (c *compiler) extension(e *etree.Element) *Extension {
	ext := &Extension{Name: "UNKNOWN", Pos: c.at(e)}
	if a := attr(e, "name"); a != nil {
		ext.Name, ext.named = a.Value, true
	}
	if a := attr(e, "continue"); a != nil {
		ext.Continue, ext.hasCont, ext.cont = a.Value, true, switchTrue(a.Value)
	}
	for _, xc := range children(e, "condition") {
		ext.Conds = append(ext.Conds, c.condition(xc, 0))
	}
	c.strays(e, "condition")
	return ext
}

// strays warns about child elements FreeSWITCH silently ignores there (a
// misspelt <conditon>, an <action> outside any condition).
func (c *compiler) strays(e *etree.Element, allowed ...string) {
next:
	for _, ch := range e.ChildElements() {
		if ch.Tag == "include" {
			continue
		}
		for _, a := range allowed {
			if ch.Tag == a {
				continue next
			}
		}
		c.warnf(ch, "<%s> inside <%s> is ignored", ch.Tag, e.Tag)
	}
}

const (
	maxRecur = 100  // nesting depth of conditions (MAX_RECUR)
	maxLoop  = 1000 // loop="N" cap
)

func (c *compiler) condition(e *etree.Element, depth int) *Condition {
	cond := &Condition{pos: c.at(e), requireNested: true}
	if a := attr(e, "break"); a != nil {
		switch strings.ToLower(a.Value) {
		case "on-true":
			cond.brk, cond.breakAttr = breakOnTrue, a.Value
		case "on-false":
			cond.brk, cond.breakAttr = breakOnFalse, a.Value
		case "always":
			cond.brk, cond.breakAttr = breakAlways, a.Value
		case "never":
			cond.brk, cond.breakAttr = breakNever, a.Value
		default:
			c.warnf(e, "unknown break=%q, using on-false", a.Value)
		}
	}
	if a := attr(e, "require-nested"); a != nil {
		cond.hasNestedAttr = true
		cond.requireNested = switchTrue(a.Value)
	}
	cond.time = compileTime(e)

	if a := attr(e, "regex"); a != nil {
		switch strings.ToLower(a.Value) {
		case "all":
			cond.mode = regexAll
		case "xor":
			cond.mode = regexXor
		case "any":
			cond.mode = regexAny
		default:
			// FreeSWITCH treats anything but all/xor as any.
			c.warnf(e, "unknown regex=%q, using any", a.Value)
			cond.mode = regexAny
		}
		for _, xr := range children(e, "regex") {
			r := &Condition{pos: c.at(xr), time: compileTime(xr)}
			c.fieldExpr(r, xr)
			cond.regexes = append(cond.regexes, r)
		}
		if len(cond.regexes) > c.dp.maxRegex {
			c.dp.maxRegex = len(cond.regexes)
		}
		if cond.hasField {
			c.warnf(e, "field is ignored on a regex=%q condition; put it on its <regex> children", a.Value)
		}
	} else {
		c.fieldExpr(cond, e)
		if !cond.hasField && cond.expr.src != "" && cond.time == nil {
			c.warnf(e, "expression without field: this condition always matches")
		}
	}

	for _, xa := range e.ChildElements() {
		switch xa.Tag {
		case "action":
			cond.actions = append(cond.actions, c.action(xa))
		case "anti-action":
			cond.anti = append(cond.anti, c.action(xa))
		}
	}
	c.strays(e, "action", "anti-action", "condition", "regex", "expression")
	nested := children(e, "condition")
	if len(nested) > 0 {
		if depth+1 > maxRecur {
			// FreeSWITCH logs "Recursion LIMIT!" at hunt time and fails the
			// nested block; so do we (tooDeep), after warning here.
			c.warnf(e, "conditions nested deeper than %d levels never match", maxRecur)
			cond.tooDeep = true
		} else {
			for _, xn := range nested {
				cond.nested = append(cond.nested, c.condition(xn, depth+1))
			}
		}
	}
	return cond
}

func (c *compiler) fieldExpr(cond *Condition, e *etree.Element) {
	if a := attr(e, "field"); a != nil {
		cond.field, cond.hasField = a.Value, true
		cond.fieldIsTpl = strings.IndexByte(a.Value, '$') >= 0
		cond.fieldVar = plainVar(a.Value)
	}
	src := attrValue(e, "expression")
	if xe := e.SelectElement("expression"); xe != nil {
		src = xe.Text()
	}
	cond.expr = expr{src: src, dynamic: needsExpand(src), hasOpen: strings.IndexByte(src, '(') >= 0}
	if !cond.hasField || cond.expr.dynamic {
		return
	}
	m, err := compileMatcher(src)
	if err != nil {
		c.errorf(e, "%v", err)
		return
	}
	cond.expr.m = m
}

func (c *compiler) action(e *etree.Element) *action {
	a := &action{app: attrValue(e, "application"), loop: 1}
	if strings.TrimSpace(e.Text()) != "" {
		a.data = e.Text()
	} else {
		a.data = attrValue(e, "data")
	}
	if a.app == "" {
		c.warnf(e, "%s without application", e.Tag)
	}
	if l := attr(e, "loop"); l != nil {
		a.loop = atoi(l.Value)
		if a.loop > maxLoop {
			// FreeSWITCH has no limit; a typo like loop="10000000" would
			// exhaust memory on every call.
			c.warnf(e, "loop=%d capped at %d", a.loop, maxLoop)
			a.loop = maxLoop
		}
	}
	a.inline = switchTrue(attrValue(e, "inline"))
	a.subst = hasCaptureRef(a.data)
	return a
}

// hasCaptureRef reports whether s contains $N or ${N}.
func hasCaptureRef(s string) bool {
	for i := 0; i < len(s)-1; i++ {
		if s[i] != '$' {
			continue
		}
		n := s[i+1]
		if n >= '0' && n <= '9' {
			return true
		}
		if n == '{' && i+2 < len(s) && s[i+2] >= '0' && s[i+2] <= '9' {
			return true
		}
	}
	return false
}

// Context returns the named context, or nil.
func (d *Dialplan) Context(name string) *Context { return d.lookup(name) }

func (d *Dialplan) lookup(name string) *Context {
	if c, ok := d.contexts[name]; ok {
		return c
	}
	return d.contexts[strings.ToLower(name)]
}

// Contexts returns the context names in document order.
func (d *Dialplan) Contexts() []string { return append([]string(nil), d.names...) }

// Warnings returns what Compile found questionable but usable, as file:line.
func (d *Dialplan) Warnings() []xmlconf.Diag { return append([]xmlconf.Diag(nil), d.warnings...) }

// needsExpand reports whether FreeSWITCH's variable expansion would change s:
// it holds "${" (a variable or API call; "$${" globals are gone after the
// preprocessor but are handled the same) or a backslash escape the expander
// consumes (\$, \', \\). A bare '$' such as a regex anchor is left alone,
// so ordinary expressions are compiled once at load.
func needsExpand(s string) bool {
	if strings.Contains(s, "${") {
		return true
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' {
			switch s[i+1] {
			case '$', '\'', '\\':
				return true
			}
			i++
		}
	}
	return false
}

// attr returns e's attribute with XML attribute-value normalization applied
// as FreeSWITCH's parser does it (switch_xml_decode: each isspace()
// character becomes a blank), so vanilla's multi-line data="en CURRENT_TIME
// pronounced\n\t\t${strepoch()}" reads as one line. The element itself is
// never modified: snapshots are shared.
func attr(e *etree.Element, name string) *etree.Attr {
	a := e.SelectAttr(name)
	if a == nil || !strings.ContainsAny(a.Value, "\t\n\v\f\r") {
		return a
	}
	c := *a
	c.Value = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' {
			return ' '
		}
		return r
	}, a.Value)
	return &c
}

// attrValue is attr's value, "" when absent.
func attrValue(e *etree.Element, name string) string {
	if a := attr(e, name); a != nil {
		return a.Value
	}
	return ""
}

// plainVar returns name when tmpl is exactly "${name}" with a plain variable
// name (no API call, substring, index or aleg_/bleg_ prefix), else "".
func plainVar(tmpl string) string {
	if len(tmpl) < 4 || !strings.HasPrefix(tmpl, "${") || tmpl[len(tmpl)-1] != '}' {
		return ""
	}
	name := tmpl[2 : len(tmpl)-1]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return ""
		}
	}
	if strings.HasPrefix(name, "aleg_") || strings.HasPrefix(name, "bleg_") {
		return ""
	}
	return name
}
