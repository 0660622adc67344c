// Package ivr runs IVR menus from ivr.conf.xml (FreeSWITCH's switch_ivr_menu.c): the ivr
// application, greetings, digit collection with literal and /regex/ bindings, sub-menus, and the
// menu-exec-app, menu-play-sound, menu-back, menu-top, menu-sub and menu-exit actions.
package ivr

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// Actions of a menu entry.
const (
	ActionExecApp   = "menu-exec-app"
	ActionPlaySound = "menu-play-sound"
	ActionBack      = "menu-back"
	ActionTop       = "menu-top"
	ActionSub       = "menu-sub"
	ActionExit      = "menu-exit"
)

// ErrNoMenu is returned when ivr.conf has no menu of that name.
var ErrNoMenu = errors.New("ivr: menu not found")

// maxStack is FreeSWITCH's limit on nested sub-menus.
const maxStack = 12

// Entry is one <entry action digits param/> binding.
type Entry struct {
	Action string
	Digits string         // literal digits, or the pattern between slashes
	Regex  *regexp.Regexp // set when digits was written /.../
	Param  string
}

// Match reports whether input selects the entry and returns the captures for $N substitution.
func (e *Entry) Match(input string) ([]string, bool) {
	if e.Regex != nil {
		m := e.Regex.FindStringSubmatch(input)
		return m, m != nil
	}
	return []string{input}, input == e.Digits
}

// Menu is one compiled <menu>.
type Menu struct {
	Name              string
	GreetLong         string
	GreetShort        string
	InvalidSound      string
	ExitSound         string
	TransferSound     string
	ConfirmMacro      string
	ConfirmKey        string
	ConfirmAttempts   int
	TTSEngine         string
	TTSVoice          string
	Timeout           time.Duration
	InterDigitTimeout time.Duration
	MaxFailures       int
	MaxTimeouts       int
	DigitLen          int
	Pin               string
	PinFile           string
	BadPinFile        string
	ExecOnMaxFailures string
	ExecOnMaxTimeouts string
	Entries           []Entry
}

// Menus are the compiled menus of one configuration snapshot.
type Menus map[string]*Menu

// Compile reads every <menu> of ivr.conf (none is not an error).
func Compile(snap *xmlconf.Snapshot) (Menus, error) {
	out := Menus{}
	conf := snap.Configuration("ivr.conf")
	if conf == nil {
		return out, nil
	}
	var errs []error
	for _, menus := range conf.SelectElements("menus") {
		for _, el := range menus.SelectElements("menu") {
			m, err := compileMenu(el)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", snap.Pos(el), err))
				continue
			}
			out[m.Name] = m
		}
	}
	return out, errors.Join(errs...)
}

func attrInt(el *etree.Element, name string) (int, bool) {
	v := strings.TrimSpace(el.SelectAttrValue(name, ""))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func compileMenu(el *etree.Element) (*Menu, error) {
	a := func(n string) string { return el.SelectAttrValue(n, "") }
	m := &Menu{
		Name: a("name"), GreetLong: a("greet-long"), GreetShort: a("greet-short"),
		InvalidSound: a("invalid-sound"), ExitSound: a("exit-sound"), TransferSound: a("transfer-sound"),
		ConfirmMacro: a("confirm-macro"), ConfirmKey: a("confirm-key"),
		TTSEngine: a("tts-engine"), TTSVoice: a("tts-voice"),
		Pin: a("pin"), PinFile: a("pin-file"), BadPinFile: a("bad-pin-file"),
		ExecOnMaxFailures: a("exec-on-max-failures"), ExecOnMaxTimeouts: a("exec-on-max-timeouts"),
	}
	if m.Name == "" {
		return nil, errors.New("menu without a name")
	}
	if m.GreetShort == "" {
		m.GreetShort = m.GreetLong
	}
	if m.PinFile == "" {
		m.PinFile = "ivr/ivr-please_enter_pin_followed_by_pound.wav"
	}
	if m.BadPinFile == "" {
		m.BadPinFile = "conference/conf-bad-pin.wav"
	}
	m.ConfirmAttempts = 3
	if n, ok := attrInt(el, "confirm-attempts"); ok && n > 0 {
		m.ConfirmAttempts = n
	}
	timeout, _ := attrInt(el, "timeout")
	if timeout <= 0 {
		timeout = 10000
	}
	m.Timeout = time.Duration(timeout) * time.Millisecond
	inter, _ := attrInt(el, "inter-digit-timeout")
	if inter <= 0 {
		inter = timeout / 2
	}
	m.InterDigitTimeout = time.Duration(inter) * time.Millisecond
	m.MaxFailures, _ = attrInt(el, "max-failures")
	if m.MaxFailures <= 0 {
		m.MaxFailures = 3
	}
	if n, ok := attrInt(el, "max-timeouts"); ok {
		m.MaxTimeouts = n
		if n <= 0 {
			m.MaxTimeouts = 3
		}
	} else {
		m.MaxTimeouts = m.MaxFailures
	}
	m.DigitLen, _ = attrInt(el, "digit-len")
	for _, e := range el.SelectElements("entry") {
		en := Entry{Action: e.SelectAttrValue("action", ""), Digits: e.SelectAttrValue("digits", ""), Param: e.SelectAttrValue("param", "")}
		switch en.Action {
		case ActionExecApp, ActionPlaySound, ActionBack, ActionTop, ActionSub, ActionExit:
		default:
			return nil, fmt.Errorf("menu %s: unknown action %q", m.Name, en.Action)
		}
		if d := en.Digits; len(d) >= 2 && d[0] == '/' && d[len(d)-1] == '/' {
			re, err := regexp.Compile(d[1 : len(d)-1])
			if err != nil {
				return nil, fmt.Errorf("menu %s: digits %s: %w", m.Name, d, err)
			}
			en.Regex = re
		} else if len(en.Digits) > m.DigitLen {
			m.DigitLen = len(en.Digits)
		}
		m.Entries = append(m.Entries, en)
	}
	if m.DigitLen <= 0 {
		m.DigitLen = 1
	}
	return m, nil
}

// Find returns the first entry that input selects.
func (m *Menu) Find(input string) (*Entry, []string) {
	for i := range m.Entries {
		if caps, ok := m.Entries[i].Match(input); ok {
			return &m.Entries[i], caps
		}
	}
	return nil, nil
}
