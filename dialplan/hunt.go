package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

// Channel is what a hunt needs from the call: core.Session satisfies it.
type Channel interface {
	Name() string
	Field(name string) (string, bool)
	Var(name string) string
	SetVar(name, value string)
	UnsetVar(name string)
	Expand(tmpl string) string
	ExecuteInline(ctx context.Context, app, data string) error
	Now() time.Time
}

// Tracer receives FreeSWITCH's dialplan log lines ("Dialplan: ..." at debug;
// warnings and errors such as "Context x not found" at their level).
type Tracer func(level slog.Level, line string)

// Hunt is one routing request.
type Hunt struct {
	Context string // "" means "default"
	Dest    string // destination_number
	Trace   Tracer // nil: no line is even formatted
	// NoDebug keeps Trace for info, warnings and errors only, so a session
	// logging above debug pays nothing for the "Dialplan: " lines.
	NoDebug bool
}

type hunter struct {
	dp    *Dialplan
	ctx   context.Context
	ch    Channel
	h     Hunt
	name  string // channel name
	route *core.Route
	trace bool  // format debug lines
	clk   clock // scratch for clock()
}

// Hunt walks the context for h.Dest as mod_dialplan_xml does and returns the
// collected actions, or core.ErrNoRoute when none were queued. Inline actions run
// on ch during the hunt and are not part of the route.
func (d *Dialplan) Hunt(ctx context.Context, ch Channel, h Hunt) (*core.Route, error) {
	if h.Context == "" {
		h.Context = "default"
	}
	hu := &hunter{dp: d, ctx: ctx, ch: ch, h: h, route: &core.Route{Context: h.Context, Actions: make([]core.Action, 0, 16)}, trace: h.Trace != nil && !h.NoDebug}
	if hu.trace {
		hu.name = ch.Name()
	}
	if h.Trace != nil {
		cidName, _ := ch.Field("caller_id_name")
		cidNum, _ := ch.Field("caller_id_number")
		h.Trace(slog.LevelInfo, "Processing "+cidName+" <"+cidNum+">->"+h.Dest+" in context "+h.Context)
	}
	c := d.lookup(h.Context)
	if c == nil {
		c = d.lookup("global")
	}
	if c == nil {
		hu.log(slog.LevelWarn, "Context "+h.Context+" not found")
		return nil, core.ErrNoRoute
	}
	start := 0
	if switchTrue(ch.Var("auto_hunt")) {
		if i, ok := c.byName[strings.ToLower(h.Dest)]; ok {
			start = i
		}
	}
	for _, ext := range c.Extensions[start:] {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if hu.trace {
			cont := "false"
			if ext.hasCont {
				cont = ext.Continue
			}
			hu.debug("Dialplan: " + hu.name + " parsing [" + h.Context + "->" + ext.Name + "] continue=" + cont)
		}
		before := len(hu.route.Actions)
		proceed := hu.conditions(ext, ext.Conds, ext.Name, 0, true)
		if proceed || len(hu.route.Actions) > before {
			hu.route.Extensions = append(hu.route.Extensions, ext.Name)
		}
		if proceed && !ext.cont {
			break
		}
	}
	if len(hu.route.Actions) == 0 {
		return nil, core.ErrNoRoute
	}
	return hu.route, nil
}

func (hu *hunter) log(level slog.Level, line string) {
	if hu.h.Trace != nil {
		hu.h.Trace(level, line)
	}
}

func (hu *hunter) debug(line string) { hu.h.Trace(slog.LevelDebug, line) }

func (hu *hunter) tracing() bool { return hu.trace }

// space is FreeSWITCH's indent for nested levels: "|" then 4 characters per
// level, the last one a blank ("|--- ", "|------- ").
func space(recur int) string {
	if recur == 0 {
		return ""
	}
	return "|" + strings.Repeat("-", recur*4-1) + " "
}

// conditions is parse_exten for one level: the extension's conditions
// (recur 0) or a condition's nested ones. reqNest is the container's
// require-nested. It returns "proceed".
func (hu *hunter) conditions(ext *Extension, conds []*Condition, extName string, recur int, reqNest bool) bool {
	name := extName
	sp := ""
	if recur > 0 {
		name = extName + "_recur_" + strconv.Itoa(recur)
		if hu.tracing() {
			sp = space(recur)
			rn := "TRUE"
			if !reqNest {
				rn = "FALSE"
			}
			hu.debug(sp + "Dialplan: Processing recursive conditions level:" + strconv.Itoa(recur) +
				" [" + name + "] require-nested=" + rn)
		}
	}
	proceed := false
	for _, cond := range conds {
		anti := true
		breakA := cond.breakAttr
		if breakA == "" {
			breakA = "on-false"
		}
		tm := -1
		if cond.time != nil {
			tm = cond.time.check(hu.clock())
		}
		switch tm {
		case 1:
			if hu.tracing() {
				hu.debug(sp + "Dialplan: " + hu.name + " Date/Time Match (PASS) [" + name + "] break=" + breakA)
			}
			anti = false
			proceed = true
		case 0:
			if hu.tracing() {
				hu.debug(sp + "Dialplan: " + hu.name + " Date/TimeMatch (FAIL) [" + name + "] break=" + breakA)
			}
			proceed = false
		}

		var caps captures
		haveCaps := false // captures (and $N substitution) apply to the actions
		if cond.mode != regexNone {
			ok, c, hc := hu.multiRegex(cond, name, sp)
			caps, haveCaps = c, hc
			if ok {
				anti = false
			}
			// FreeSWITCH leaves "proceed" at whatever the last evaluated
			// <regex> (or the last capturing one) returned, so an xor or any
			// condition can queue its actions yet not count as a match, and
			// an earlier failed capturing regex can wipe the $N data. We do
			// not copy that: the condition proceeds when it passed.
			proceed = !anti
		} else if cond.hasField {
			c, matched, hasOpen := hu.fieldMatch(cond, name, sp, breakA)
			caps = c
			proceed = matched
			if matched {
				anti = false
			}
			// QUIRK copied: a passing time check already cleared the anti flag,
			// so a failing field still runs the actions (with empty captures);
			// a failing time check is overridden by a passing field.
			haveCaps = hasOpen
		} else if tm == -1 {
			if hu.tracing() {
				hu.debug(sp + "Dialplan: " + hu.name + " Absolute Condition [" + name + "]")
			}
			anti = false
			proceed = true
		}

		if anti {
			hu.queueAnti(sp, ext, cond)
			if len(cond.anti) > 0 {
				proceed = true // any anti-action makes the extension count as matched
			}
		} else {
			hu.queueActions(sp, ext, cond, caps, haveCaps)
		}

		if (!anti && cond.brk == breakOnTrue) || (anti && cond.brk == breakOnFalse) || cond.brk == breakAlways {
			break
		}
		if proceed && cond.tooDeep {
			hu.log(slog.LevelError, "Recursion LIMIT!")
			proceed = false
			if cond.brk == breakNever {
				continue
			}
			break
		}
		if proceed && len(cond.nested) > 0 {
			if !hu.conditions(ext, cond.nested, extName, recur+1, cond.requireNested) {
				proceed = false
				if cond.brk == breakNever {
					continue
				}
				break
			}
			proceed = true
		}
	}
	if !reqNest {
		proceed = true
	}
	return proceed
}

// fieldMatch tests a condition's field against its expression (expanded first when it holds
// variables) and traces the result. hasOpen says the expression captures.
func (hu *hunter) fieldMatch(cond *Condition, name, sp, breakA string) (caps captures, matched, hasOpen bool) {
	fieldData := hu.fieldData(cond)
	exprSrc := cond.expr.src
	m := cond.expr.m
	if cond.expr.dynamic {
		exprSrc = hu.ch.Expand(exprSrc)
		m = hu.dynamicMatcher(exprSrc)
	}
	hasOpen = strings.IndexByte(exprSrc, '(') >= 0
	if m != nil {
		if hasOpen {
			caps, matched = m.match(fieldData)
		} else {
			matched = m.test(fieldData)
		}
	}
	if hu.tracing() {
		res := "FAIL"
		if matched {
			res = "PASS"
		}
		hu.debug(sp + "Dialplan: " + hu.name + " Regex (" + res + ") [" + name + "] " + cond.field + "(" +
			fieldData + ") =~ /" + exprSrc + "/ break=" + breakA)
	}
	return caps, matched, hasOpen
}

// queueAnti queues a failed condition's anti-actions.
func (hu *hunter) queueAnti(sp string, ext *Extension, cond *Condition) {
	for _, a := range cond.anti {
		for n := a.loop; n > 0; n-- {
			hu.queue(sp, ext, a, a.data, true)
		}
	}
}

// queueActions queues a passed condition's actions, with $N replaced by its captures (and
// DP_MATCH set) when it captured.
func (hu *hunter) queueActions(sp string, ext *Extension, cond *Condition, caps captures, haveCaps bool) {
	if haveCaps {
		if v := caps.dpMatchValue(); v != "" {
			hu.ch.SetVar("DP_MATCH", v)
		} else {
			hu.ch.UnsetVar("DP_MATCH")
		}
	}
	for _, a := range cond.actions {
		data := a.data
		if haveCaps && a.subst {
			data = caps.substitute(data)
		}
		for n := a.loop; n > 0; n-- {
			hu.queue(sp, ext, a, data, false)
		}
	}
}

// queue logs an action and either runs it now (inline) or appends it to the
// route.
func (hu *hunter) queue(sp string, ext *Extension, a *action, data string, anti bool) {
	if hu.tracing() {
		kind := " Action "
		if anti {
			kind = " ANTI-Action "
		}
		line := sp + "Dialplan: " + hu.name + kind + a.app + "(" + data + ")"
		if a.inline {
			line += " INLINE"
		}
		hu.debug(line)
	}
	if a.inline {
		hu.inline(a.app, data)
		return
	}
	hu.route.Actions = append(hu.route.Actions, core.Action{App: a.app, Data: data, Anti: anti, Extension: ext.Name})
}

// inline runs a routing-safe application during the hunt, as exec_app does:
// an app that is not routing-safe is skipped with an error; an unknown one
// also hangs the call up with DESTINATION_OUT_OF_ORDER (the hunt goes on, as
// in FreeSWITCH, but the call is gone).
func (hu *hunter) inline(app, data string) {
	err := hu.ch.ExecuteInline(hu.ctx, app, data)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotInline):
		hu.log(slog.LevelError, "This application cannot be executed inline")
	case errors.Is(err, core.ErrUnknownApp):
		hu.log(slog.LevelError, "Invalid Application "+app)
		if h, ok := hu.ch.(interface{ Hangup(core.Cause) }); ok {
			h.Hangup(core.CauseDestinationOutOfOrder)
		}
	default:
		hu.log(slog.LevelError, app+": "+err.Error())
	}
}

// fieldData returns the value a condition's field tests: a template when it
// holds '$', else a caller-profile field (case-insensitive); missing is "".
func (hu *hunter) fieldData(c *Condition) string {
	if c.fieldIsTpl {
		return hu.template(c)
	}
	switch {
	case strings.EqualFold(c.field, "destination_number"):
		return hu.h.Dest
	case strings.EqualFold(c.field, "context"):
		return hu.h.Context
	}
	v, _ := hu.ch.Field(c.field)
	return v
}

// template expands a field template. "${name}" (most fields in practice) is
// answered from Var without going through the expander when that gives the
// same result as ${name} expansion (FS-COMPAT 2.9: channel variable, then
// caller-profile field, then global, then the value expanded again): the
// name is not a profile field and the value holds nothing to expand.
func (hu *hunter) template(c *Condition) string {
	if c.fieldVar != "" {
		if _, isField := hu.ch.Field(c.fieldVar); !isField {
			if v := hu.ch.Var(c.fieldVar); !strings.ContainsAny(v, "$\\") {
				return v
			}
		}
	}
	return hu.ch.Expand(c.field)
}

// multiRegex evaluates a regex="any|all|xor" condition. ok is whether the condition passed; caps the captures of
// the last capturing <regex> evaluated (FreeSWITCH keeps those for $N).
func (hu *hunter) multiRegex(cond *Condition, name, sp string) (ok bool, caps captures, haveCaps bool) {
	all, xor := cond.mode == regexAll, cond.mode == regexXor
	matchWord := "any"
	if all {
		matchWord = "all"
	}
	for i := 1; i <= hu.dp.maxRegex; i++ {
		hu.ch.UnsetVar("DP_REGEX_MATCH_" + strconv.Itoa(i))
	}
	pass, fail := 0, 0
	for i, r := range cond.regexes {
		rtm := -1
		if r.time != nil {
			rtm = r.time.check(hu.clock())
		}
		if hu.tracing() {
			switch rtm {
			case 1:
				hu.debug(sp + "Dialplan: " + hu.name + " Date/Time Match (PASS) [" + name + "]")
			case 0:
				hu.debug(sp + "Dialplan: " + hu.name + " Date/TimeMatch (FAIL) [" + name + "]")
			}
		}
		if !r.hasField {
			// A <regex> without field: its time check decides; with neither
			// it is an absolute pass. (With a field, FreeSWITCH ignores the
			// <regex>'s time result; so do we.)
			if rtm == -1 && hu.tracing() {
				hu.debug(sp + "Dialplan: " + hu.name + " Absolute Condition [" + name + "] match=" + matchWord)
			}
			if rtm != 0 {
				pass++
				if !all && !xor {
					break
				}
			} else {
				fail++
				if all {
					break
				}
			}
			continue
		}
		fieldData := hu.fieldData(r)
		exprSrc := r.expr.src
		m := r.expr.m
		if r.expr.dynamic {
			exprSrc = hu.ch.Expand(exprSrc)
			m = hu.dynamicMatcher(exprSrc)
		}
		hasOpen := strings.IndexByte(exprSrc, '(') >= 0
		var c captures
		matched := false
		if m != nil {
			c, matched = m.match(fieldData)
		}
		if hu.tracing() {
			res := "FAIL"
			if matched {
				res = "PASS"
			}
			hu.debug(sp + "Dialplan: " + hu.name + " Regex (" + res + ") [" + name + "] " + r.field + "(" +
				fieldData + ") =~ /" + exprSrc + "/ match=" + matchWord)
		}
		if hasOpen {
			caps, haveCaps = c, true
			if matched {
				hu.ch.SetVar("DP_REGEX_MATCH_"+strconv.Itoa(i+1), c.dpMatchValue())
			}
		}
		if matched {
			pass++
			if !all && !xor {
				break
			}
		} else {
			fail++
			if all && !xor {
				break
			}
		}
	}
	if xor {
		ok = pass == 1
	} else {
		ok = (all && fail == 0) || (!all && pass > 0)
	}
	return ok, caps, haveCaps
}

// dynamicMatcher compiles an expression that held ${...} after expansion,
// caching it. A bad pattern fails the condition, as PCRE's COMPILE ERROR
// does in FreeSWITCH.
func (hu *hunter) dynamicMatcher(src string) *matcher {
	if v, ok := hu.dp.dynamic.Load(src); ok {
		if m, ok := v.(*matcher); ok {
			return m
		}
		return nil
	}
	m, err := compileMatcher(src)
	if err != nil {
		hu.log(slog.LevelError, "COMPILE ERROR: "+err.Error())
	}
	if hu.dp.nDynamic.Add(1) <= maxDynamic {
		if m != nil {
			hu.dp.dynamic.Store(src, m)
		} else {
			hu.dp.dynamic.Store(src, err)
		}
	}
	return m
}

// clock resolves the time and zone time conditions use: channel variable
// tod_tz_offset (whole hours) wins, then timezone (an IANA name), else the
// zone of the channel's clock (the server's local zone for a real call; the
// offset given to `goswitch trace -time` for a dry run).
func (hu *hunter) clock() *clock {
	now := hu.ch.Now()
	if off := hu.ch.Var("tod_tz_offset"); off != "" && isNumber(off) {
		h := atoi(off)
		hu.clk = clock{now: now.In(time.FixedZone("", h*3600)), offsetH: h, fixedOff: true}
		return &hu.clk
	}
	var loc *time.Location
	if tz := hu.ch.Var("timezone"); tz != "" {
		if l := hu.dp.zone(tz); l != nil {
			loc = l
		} else {
			hu.log(slog.LevelWarn, "unknown timezone "+tz+", using the channel clock's zone")
		}
	}
	t := now
	if loc != nil {
		t = now.In(loc)
	}
	_, off := t.Zone()
	hu.clk = clock{now: t, offsetH: off / 3600}
	return &hu.clk
}

// zone resolves a `timezone` variable: FreeSWITCH's timezones.conf table of
// POSIX rules first (what FreeSWITCH itself uses), then the system's IANA
// database. FreeSWITCH evaluates an unknown name against a zeroed clock; we
// fall back to the channel clock's zone and warn instead.
func (d *Dialplan) zone(name string) *time.Location {
	if v, ok := d.zones.Load(name); ok {
		l, _ := v.(*time.Location)
		return l
	}
	var l *time.Location
	if rule, ok := d.posix[name]; ok {
		l, _ = posixLocation(name, rule)
	}
	if l == nil {
		l, _ = time.LoadLocation(name)
	}
	if d.nZones.Add(1) <= maxZones {
		d.zones.Store(name, l)
	}
	return l
}
