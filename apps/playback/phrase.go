package playback

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// ErrNoMacro is returned when a phrase macro does not exist for the language.
var ErrNoMacro = fmt.Errorf("phrase: macro not found")

// Language returns <language name="lang"> from the languages section, or nil.
func Language(snap *xmlconf.Snapshot, lang string) *etree.Element {
	if snap == nil {
		return nil
	}
	sec := snap.Section("languages")
	if sec == nil {
		return nil
	}
	for _, l := range sec.SelectElements("language") {
		if strings.EqualFold(l.SelectAttrValue("name", ""), lang) {
			return l
		}
	}
	return nil
}

// FindMacro returns the macro "name" or "name@group" of a language element.
func FindMacro(lang *etree.Element, name string) *etree.Element {
	if lang == nil {
		return nil
	}
	name, group, _ := strings.Cut(name, "@")
	var fallback *etree.Element
	for _, phrases := range lang.SelectElements("phrases") {
		for _, macros := range phrases.SelectElements("macros") {
			g := macros.SelectAttrValue("name", "")
			if group != "" && !strings.EqualFold(g, group) {
				continue
			}
			for _, m := range macros.SelectElements("macro") {
				if m.SelectAttrValue("name", "") == name {
					if g == "" || group != "" {
						return m
					}
					if fallback == nil {
						fallback = m
					}
				}
			}
		}
	}
	return fallback
}

var reCache sync.Map // pattern -> *regexp.Regexp (nil value stored as error)

func compile(pattern string) (*regexp.Regexp, error) {
	if v, ok := reCache.Load(pattern); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		reCache.Store(pattern, err)
		return nil, err
	}
	reCache.Store(pattern, re)
	return re, nil
}

// Substitute replaces $0..$9 in tmpl with the regex captures (switch_perform_substitution).
func Substitute(tmpl string, caps []string) string {
	if !strings.Contains(tmpl, "$") {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9' {
			n := int(tmpl[i+1] - '0')
			if n < len(caps) {
				b.WriteString(caps[n])
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// phrase runs a macro (switch_ivr_phrase_macro_event): each <input pattern> is matched against
// data; its <match> or <nomatch> actions run; break_on_match="true" stops after a match.
func (p *player) phrase(name, data string) error {
	name = strings.TrimSpace(name)
	if p.s == nil {
		return fmt.Errorf("%w: %s (no channel)", ErrNoMacro, name)
	}
	lang := p.opts.Language
	if n, l, ok := strings.Cut(name, "@"); ok && Language(p.s.Config(), l) != nil {
		name, lang = n, l // "macro@lang"
	}
	le := Language(p.s.Config(), lang)
	m := FindMacro(le, name)
	if m == nil && p.opts.Fallback != nil {
		m = p.opts.Fallback(name)
	}
	if m == nil {
		return fmt.Errorf("%w: %s (%s)", ErrNoMacro, name, lang)
	}
	prefix := ""
	if le != nil {
		prefix = p.s.Expand(le.SelectAttrValue("sound-prefix", ""))
	}
	return p.runMacro(m, data, prefix)
}

// runMacro plays one <macro> element; soundPrefix, when set, applies to its relative files.
func (p *player) runMacro(m *etree.Element, data, soundPrefix string) error {
	name := m.SelectAttrValue("name", "")
	saved := p.opts.SoundPrefix
	if soundPrefix != "" && saved == "" {
		p.opts.SoundPrefix = soundPrefix
	}
	defer func() { p.opts.SoundPrefix = saved }()
	pause, _ := strconv.Atoi(m.SelectAttrValue("pause", "0"))
	for _, in := range m.SelectElements("input") {
		re, err := compile(in.SelectAttrValue("pattern", "(.*)"))
		if err != nil {
			p.s.Log().Warn("phrase: bad pattern", "macro", name, "err", err)
			continue
		}
		caps := re.FindStringSubmatch(data)
		block := "nomatch"
		if caps != nil {
			block = "match"
		}
		if blk := in.SelectElement(block); blk != nil {
			for _, a := range blk.SelectElements("action") {
				if err := p.action(a, caps, pause); err != nil {
					return err
				}
			}
		}
		if caps != nil && strings.EqualFold(in.SelectAttrValue("break_on_match", ""), "true") {
			break
		}
	}
	return nil
}

func (p *player) action(a *etree.Element, caps []string, pause int) error {
	fn := a.SelectAttrValue("function", "")
	data := p.s.Expand(Substitute(a.SelectAttrValue("data", ""), caps))
	switch fn {
	case "play-file":
		if err := p.play(data); err != nil && !isNotFound(err) {
			return err
		}
		return p.silence(pause)
	case "say":
		return p.say(data, a.SelectAttrValue("type", ""), a.SelectAttrValue("method", "pronounced"), a.SelectAttrValue("gender", ""))
	case "sleep":
		ms, _ := strconv.Atoi(strings.TrimSpace(data))
		return p.silence(ms)
	case "break":
		return errBreak
	case "phrase":
		macro := Substitute(a.SelectAttrValue("phrase", ""), caps)
		if macro == "" {
			macro, data, _ = strings.Cut(data, ",")
		}
		err := p.phrase(macro, data)
		if err == errBreak {
			err = nil
		}
		return err
	case "execute":
		app, args := splitAppCall(data)
		if app == "sleep" {
			ms, _ := strconv.Atoi(strings.TrimSpace(args))
			return p.silence(ms)
		}
		if err := p.s.Execute(p.ctx, app, args); err != nil {
			p.s.Log().Warn("phrase: execute failed", "app", app, "err", err)
		}
		return p.ctx.Err()
	case "speak-text":
		if err := p.speak(data); err != nil && !isNotFound(err) {
			return err
		}
		return nil
	}
	p.s.Log().Debug("phrase: unknown action", "function", fn)
	return nil
}

// splitAppCall reads "app(args)" or "app args".
func splitAppCall(s string) (app, args string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i], s[i+1 : len(s)-1]
	}
	app, args, _ = strings.Cut(s, " ")
	return app, strings.TrimSpace(args)
}

// PhraseMacro runs a macro element that did not come from the languages section (a module's
// built-in fallback prompts), with the same rules as Phrase.
func PhraseMacro(ctx context.Context, s *core.Session, macro *etree.Element, data string, opts Options) (Result, error) {
	p, err := newPlayer(ctx, s, opts)
	if err != nil {
		return Result{}, err
	}
	err = p.runMacro(macro, data, "")
	return p.result(err)
}
