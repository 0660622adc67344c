package xmlconf

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/internal/bracket"
)

// maxIncludeDepth is FreeSWITCH's recursion limit for nested includes
// (preprocess() refuses rlevel > 100).
const maxIncludeDepth = 100

// execTimeout bounds exec and exec-set commands so a hung script cannot
// hang a reload forever (FreeSWITCH waits without limit).
const execTimeout = 30 * time.Second

// preprocessor is one run of FreeSWITCH's preprocess() over a tree. It writes
// the expanded text to out and remembers, for every output line, the
// original file and line it came from.
type preprocessor struct {
	src       source
	vars      map[string]string
	overrides map[string]string
	allowExec bool
	env       func(string) (string, bool)

	out     bytes.Buffer
	lines   []Pos // lines[i] = origin of output line i+1
	started bool  // the current output line already has an origin

	stack []string // files being processed, for cycle errors
	diags []Diag
	undef map[string]bool // undefined $${} names already reported
}

func (pp *preprocessor) warn(p Pos, format string, args ...any) {
	pp.diags = append(pp.diags, Diag{Pos: p, Msg: fmt.Sprintf(format, args...), Warning: true})
}

func (pp *preprocessor) fail(p Pos, format string, args ...any) {
	pp.diags = append(pp.diags, Diag{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// write appends text taken from position p to the output.
func (pp *preprocessor) write(text string, p Pos) {
	for len(text) > 0 {
		if !pp.started {
			pp.lines = append(pp.lines, p)
			pp.started = true
		}
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			pp.out.WriteString(text)
			return
		}
		pp.out.WriteString(text[:i+1])
		pp.started = false
		text = text[i+1:]
	}
}

// origin maps a 1-based line of the preprocessed output back to its source.
func (pp *preprocessor) origin(line int) Pos {
	if len(pp.lines) == 0 {
		return Pos{}
	}
	if line < 1 {
		line = 1
	}
	if line > len(pp.lines) {
		return pp.lines[len(pp.lines)-1]
	}
	return pp.lines[line-1]
}

// splitLines cuts data the way switch_fp_read_dline does: every line ends
// after a '\r' or a '\n', so "\r\n" gives two lines. It also returns each
// line's number in the file as an editor counts it.
func splitLines(data string) (lines []string, nums []int) {
	n := 1
	for len(data) > 0 {
		i := strings.IndexAny(data, "\r\n")
		if i < 0 {
			lines, nums = append(lines, data), append(nums, n)
			break
		}
		lines, nums = append(lines, data[:i+1]), append(nums, n)
		if data[i] == '\n' || i+1 >= len(data) || data[i+1] != '\n' {
			n++
		}
		data = data[i+1:]
	}
	return lines, nums
}

// expand substitutes $${name} in one line (expand_vars). It also returns the
// raw line as FreeSWITCH's later checks see it: expand_vars writes a NUL over
// the closing brace of every substituted variable, so those checks only look
// at the text before the first one. unterminated is set when a "$${" has no
// closing brace (copied through literally).
func (pp *preprocessor) expand(raw string, p Pos) (expanded, rawView string, unterminated bool) {
	if !strings.Contains(raw, "$${") {
		return raw, raw, false
	}
	rawView = raw
	var b strings.Builder
	for i := 0; i < len(raw); {
		if strings.HasPrefix(raw[i:], "$${") {
			if end := bracket.End(raw, i+2, bracket.Plain); end >= 0 {
				if rawView == raw {
					rawView = raw[:end]
				}
				name := raw[i+3 : end]
				if v, ok := pp.vars[name]; ok {
					b.WriteString(v)
				} else if !pp.undef[name] {
					pp.undef[name] = true
					pp.warn(p, "undefined global $${%s} expands to an empty string", name)
				}
				i = end + 1
				continue
			}
			unterminated = true
		}
		b.WriteByte(raw[i])
		i++
	}
	return b.String(), rawView, unterminated
}

// indexFold is a case-insensitive strings.Index for an ASCII needle
// (switch_stristr).
func indexFold(s, needle string) int {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], needle) {
			return i
		}
	}
	return -1
}

// file runs preprocess() over one file. cwd is the directory relative
// includes are resolved against, depth FreeSWITCH's rlevel.
func (pp *preprocessor) file(cwd, name string, depth int, from Pos) {
	if depth > maxIncludeDepth {
		pp.fail(from, "include %s: maximum include depth (%d) reached", name, maxIncludeDepth)
		return
	}
	for i, f := range pp.stack {
		if f == name {
			chain := append(append([]string{}, pp.stack[i:]...), name)
			pp.fail(from, "include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	data, err := pp.src.readFile(name)
	if err != nil {
		if from.IsZero() {
			pp.fail(Pos{File: name}, "cannot read config file: %v", err)
		} else {
			pp.fail(from, "cannot read included file %s: %v", name, err)
		}
		return
	}
	pp.stack = append(pp.stack, name)
	defer func() { pp.stack = pp.stack[:len(pp.stack)-1] }()

	lines, nums := splitLines(string(data))
	multiline := false // inside a <!--# ... --> that spans lines
	for li, raw := range lines {
		p := Pos{File: name, Line: nums[li]}
		bp, rawView, unterminated := pp.expand(raw, p)
		if unterminated {
			pp.warn(p, "unterminated $${var}")
		}

		// FreeSWITCH drops these whole lines "for the sake of validators".
		if strings.Contains(rawView, "<include>") || strings.Contains(rawView, "</include>") || strings.Contains(rawView, "<?") {
			continue
		}

		if multiline {
			e := strings.Index(rawView, "-->")
			if e < 0 {
				continue
			}
			multiline = false
			bp = rawView[e+3:] // QUIRK copied: the rest of the line is taken unexpanded
		}

		if t := indexFold(bp, "X-PRE-PROCESS"); t >= 0 {
			// Active even inside <!-- -->; the whole line is consumed. Not
			// preceded by '<' (XX-PRE-PROCESS): the line is dropped silently.
			if t == 0 || bp[t-1] != '<' {
				continue
			}
			cmd, data, ok := parseDirective(bp[t:])
			if ok {
				pp.directive(cmd, data, cwd, depth, p, true)
			} else {
				pp.warn(p, "malformed X-PRE-PROCESS line ignored")
			}
			continue
		}

		if c := strings.Index(bp, "<!--#"); c >= 0 {
			pp.write(bp[:c], p)
			rest := bp[c:]
			var text string
			if e := strings.Index(rest, "-->"); e >= 0 {
				text = rest[5:e]
				pp.write(rest[e+3:], p)
			} else {
				multiline = true
				text = rest[5:]
			}
			if e := strings.IndexAny(text, "\r\n"); e >= 0 {
				text = text[:e]
			}
			if sp := strings.IndexByte(text, ' '); sp >= 0 {
				cmd, arg := text[:sp], text[sp+1:]
				if q := strings.IndexByte(arg, '"'); q >= 0 {
					if qq := strings.IndexByte(arg[q+1:], '"'); qq >= 0 {
						arg = arg[q+1 : q+1+qq]
					}
				}
				pp.directive(cmd, arg, cwd, depth, p, false)
			}
			continue
		}

		pp.write(bp, p)
	}
}

// parseDirective pulls cmd and data out of "X-PRE-PROCESS cmd="..." data="..."/>"
// the way preprocess() does: it looks for the words cmd and data, then '=',
// then a quoted value, and ignores everything after the first "/>".
func parseDirective(tag string) (cmd, data string, ok bool) {
	if e := strings.Index(tag, "/>"); e >= 0 {
		tag = tag[:e+2]
	}
	quoted := func(s, key string) (val, rest string, ok bool) {
		i := indexFold(s, key)
		if i < 0 {
			return "", "", false
		}
		s = s[i:]
		if i = strings.IndexByte(s, '='); i < 0 {
			return "", "", false
		}
		s = s[i:]
		if i = strings.IndexByte(s, '"'); i < 0 {
			return "", "", false
		}
		s = s[i+1:]
		if i = strings.IndexByte(s, '"'); i < 0 {
			return s, "", true
		}
		return s[:i], s[i+1:], true
	}
	cmd, rest, ok := quoted(tag, "cmd")
	if !ok {
		return "", "", false
	}
	data, _, ok = quoted(rest, "data")
	return cmd, data, ok
}

// splitKV splits "name = value" at the first '=' and trims blanks next to it,
// as the set, exec-set and stun-set commands do.
func splitKV(s string) (name, value string, ok bool) {
	i := strings.IndexByte(s, '=')
	if i < 0 {
		return "", "", false
	}
	return strings.TrimRight(s[:i], " "), strings.TrimLeft(s[i+1:], " "), true
}

// directive runs one preprocessor command. long is true for the
// X-PRE-PROCESS form, which also knows env-set.
func (pp *preprocessor) directive(cmd, arg, cwd string, depth int, p Pos, long bool) {
	switch strings.ToLower(cmd) {
	case "set":
		if name, val, ok := splitKV(arg); ok {
			pp.set(name, val, p)
		} else {
			pp.warn(p, "set %q: no '=' in data, nothing set", arg)
		}
	case "env-set":
		if !long {
			pp.warn(p, "#env-set is not a FreeSWITCH command; ignored")
			return
		}
		i := strings.IndexByte(arg, '=')
		if i < 0 || !strings.HasPrefix(arg[i+1:], "$") {
			pp.warn(p, "env-set %q: expected name=$ENVVAR", arg)
			return
		}
		if v, ok := pp.env(arg[i+2:]); ok {
			pp.set(arg[:i], v, p)
		}
	case "stun-set":
		name, val, ok := splitKV(arg)
		if !ok {
			pp.warn(p, "stun-set %q: no '=' in data", arg)
			return
		}
		if low := strings.ToLower(val); strings.HasPrefix(low, "stun:") || strings.HasPrefix(low, "host:") {
			local := pp.vars["local_ip_v4"]
			pp.warn(p, "stun-set %s=%s: no network lookup at load, using local_ip_v4 (%s)", name, val, local)
			val = local
		}
		if val != "" {
			pp.set(name, val, p)
		}
	case "exec-set":
		name, command, ok := splitKV(arg)
		if !ok {
			pp.warn(p, "exec-set %q: no '=' in data", arg)
			return
		}
		if !pp.allowExec {
			pp.warn(p, "exec-set %s: running commands is disabled, %s not set", name, name)
			return
		}
		out, err := pp.run(command)
		if err != nil {
			pp.warn(p, "exec-set %s: command %q failed: %v", name, command, err)
			return
		}
		if out = strings.TrimRight(out, " \n"); out != "" {
			pp.set(name, out, p)
		}
	case "exec":
		if !pp.allowExec {
			pp.warn(p, "exec %q: running commands is disabled, nothing included", arg)
			return
		}
		out, err := pp.run(arg)
		if err != nil {
			pp.warn(p, "exec %q failed: %v", arg, err)
		}
		pp.write(out, p)
	case "include":
		pp.include(cwd, arg, depth+1, p)
	case "comment":
	default:
		pp.warn(p, "unknown preprocessor command %q ignored", cmd)
	}
}

// set stores a global. A -set override from the command line wins over the
// tree. QUIRK copied: switch_core_set_variable neuters "${" in global values
// by turning the '$' into '%' (the "taint check"); we warn when that happens.
func (pp *preprocessor) set(name, val string, p Pos) {
	if name == "" {
		pp.warn(p, "set with an empty variable name ignored")
		return
	}
	if _, ok := pp.overrides[name]; ok {
		return
	}
	if t := taint(val); t != val {
		pp.warn(p, "global %s: FreeSWITCH stores ${ in global values as %%{ (%s)", name, t)
		val = t
	}
	pp.vars[name] = val
}

// taint is switch_string_var_check(s, SWITCH_TRUE).
func taint(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	b := []byte(s)
	dol := -1
	for i, c := range b {
		switch {
		case c == '$':
			dol = i
		case dol >= 0 && c == '{':
			b[dol] = '%'
			dol = -1
		case dol >= 0 && c != '\\':
			dol = -1
		}
	}
	return string(b)
}

func (pp *preprocessor) run(command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", command).Output()
	return string(out), err
}

// include is preprocess_glob: the pattern is relative to the including
// file's directory unless absolute, and matches are processed in order.
func (pp *preprocessor) include(cwd, pattern string, depth int, p Pos) {
	full := pattern
	if !pp.src.isAbs(pattern) {
		full = pp.src.join(cwd, pattern)
	} else if _, ok := pp.src.(fsSource); ok {
		pp.warn(p, "include %s: absolute paths cannot be read from the embedded tree", pattern)
		return
	}
	matches, err := pp.src.glob(full)
	if err != nil {
		pp.warn(p, "include %s: %v", pattern, err)
		return
	}
	matches = dropHidden(pp.src.sep(), full, matches)
	if len(matches) == 0 {
		if !hasMeta(pattern) {
			pp.warn(p, "include %s: no such file", full)
		}
		return
	}
	for _, m := range matches {
		if pp.src.isDir(m) {
			continue
		}
		pp.file(pp.src.dir(m), m, depth, p)
	}
}
