package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

func init() {
	core.RegisterApp(core.AppInfo{Name: "ivr", Syntax: "<menu_name>", Short: "Run an ivr menu", Module: "mod_dptools", App: core.AppFunc(appIVR)})
}

// Menu status values (the ivr_menu_status variable).
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusTimeout = "timeout"
)

// outcome is how one menu level ended.
type outcome int

const (
	outExit outcome = iota // leave the IVR
	outBack                // return to the parent menu
	outTop                 // restart the top menu
)

// runner executes menus for one call.
type runner struct {
	s      *core.Session
	menus  Menus
	status string
	depth  int
}

func appIVR(ctx context.Context, s *core.Session, args string) error {
	name := strings.TrimSpace(args)
	menus, err := Compile(s.Config())
	if err != nil {
		s.Log().Warn("ivr.conf has errors", "err", err)
	}
	top, ok := menus[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoMenu, name)
	}
	return Run(ctx, s, menus, top)
}

// Run executes top (and its sub-menus from menus) on the session. It returns when the caller
// leaves the menu; ivr_menu_status tells how.
func Run(ctx context.Context, s *core.Session, menus Menus, top *Menu) error {
	r := &runner{s: s, menus: menus, status: StatusSuccess}
	if top.Pin != "" && !r.checkPin(ctx, top) {
		s.SetVar("ivr_menu_status", StatusFailure)
		return nil
	}
	for {
		out, err := r.menu(ctx, top)
		if err != nil || ctx.Err() != nil {
			s.SetVar("ivr_menu_status", r.status)
			return nil // hung up, transferred or broken: not an application failure
		}
		if out == outTop {
			continue
		}
		break
	}
	s.SetVar("ivr_menu_status", r.status)
	if top.ExitSound != "" {
		_, _ = playback.Play(ctx, s, top.ExitSound, playback.Options{})
	}
	return nil
}

func (r *runner) event(action string, m *Menu) {
	e := r.s.NewEvent(event.Custom, action)
	e.Add("Menu-Name", m.Name)
	r.s.Host().Bus.Publish(e)
}

func (r *runner) checkPin(ctx context.Context, m *Menu) bool {
	for range 3 {
		in, err := playback.GetDigits(ctx, r.s, playback.Collect{
			Prompt: m.PinFile, Min: 1, Max: 128, Terminators: "#",
			Timeout: m.Timeout, DigitTimeout: m.InterDigitTimeout,
		})
		if err != nil {
			return false
		}
		if in.Digits == m.Pin {
			return true
		}
		if _, err := playback.Play(ctx, r.s, m.BadPinFile, playback.Options{}); err != nil && ctx.Err() != nil {
			return false
		}
	}
	return false
}

func (r *runner) terminator() string {
	if v, ok := r.s.Vars().Get("ivr_menu_terminator"); ok {
		return v
	}
	return "#"
}

// menu runs one menu level until it is left.
func (r *runner) menu(ctx context.Context, m *Menu) (outcome, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxStack {
		return outExit, fmt.Errorf("ivr: menu stack too deep at %s", m.Name)
	}
	r.event("menu::enter", m)
	defer r.event("menu::exit", m)
	if m.TTSEngine != "" {
		r.s.SetVar("tts_engine", m.TTSEngine)
	}
	if m.TTSVoice != "" {
		r.s.SetVar("tts_voice", m.TTSVoice)
	}
	failures, timeouts, pass := 0, 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return outExit, err
		}
		greet := m.GreetShort
		if pass == 0 {
			greet = m.GreetLong
		}
		pass++
		in, err := playback.GetDigits(ctx, r.s, playback.Collect{
			Prompt: greet, Min: 1, Max: m.DigitLen, Terminators: r.terminator(),
			Timeout: m.Timeout, DigitTimeout: m.InterDigitTimeout,
		})
		if err != nil {
			return outExit, err
		}
		if in.Digits == "" {
			timeouts++
			if timeouts >= m.MaxTimeouts {
				r.status = StatusTimeout
				r.execOnMax(ctx, m.ExecOnMaxTimeouts)
				return outExit, nil
			}
			continue
		}
		entry, caps := m.Find(in.Digits)
		if entry != nil && m.ConfirmMacro != "" && m.ConfirmKey != "" && !r.confirm(ctx, m, in.Digits) {
			entry = nil
		}
		if entry == nil {
			failures++
			if m.InvalidSound != "" {
				if _, err := playback.Play(ctx, r.s, m.InvalidSound, playback.Options{}); err != nil && ctx.Err() != nil {
					return outExit, ctx.Err()
				}
			}
			if failures >= m.MaxFailures {
				r.status = StatusFailure
				r.execOnMax(ctx, m.ExecOnMaxFailures)
				return outExit, nil
			}
			continue
		}
		param := playback.Substitute(entry.Param, caps)
		switch entry.Action {
		case ActionExit:
			return outExit, nil
		case ActionBack:
			return outBack, nil
		case ActionTop:
			return outTop, nil
		case ActionPlaySound:
			if _, err := playback.Play(ctx, r.s, param, playback.Options{}); err != nil && ctx.Err() != nil {
				return outExit, ctx.Err()
			}
		case ActionSub:
			sub, ok := r.menus[strings.TrimSpace(param)]
			if !ok {
				r.s.Log().Warn("ivr: no such sub-menu", "menu", param)
				continue
			}
			if sub == m {
				continue
			}
			out, err := r.menu(ctx, sub)
			if err != nil || out != outBack {
				return out, err
			}
		case ActionExecApp:
			if err := r.execApp(ctx, m, param); err != nil {
				return outExit, err
			}
		}
	}
}

// execApp runs "app args" inside the menu; a transfer or hangup cancels ctx and ends the menu.
func (r *runner) execApp(ctx context.Context, m *Menu, param string) error {
	app, args, _ := strings.Cut(strings.TrimSpace(param), " ")
	if app == "transfer" && m.TransferSound != "" {
		if _, err := playback.Play(ctx, r.s, m.TransferSound, playback.Options{}); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	err := r.s.Execute(ctx, app, strings.TrimSpace(args))
	if errors.Is(err, core.ErrUnknownApp) {
		r.s.Log().Error("ivr: invalid application", "app", app)
	}
	return ctx.Err()
}

func (r *runner) execOnMax(ctx context.Context, spec string) {
	if spec = strings.TrimSpace(spec); spec == "" {
		return
	}
	app, args, _ := strings.Cut(spec, " ")
	if err := r.s.Execute(ctx, app, strings.TrimSpace(args)); err != nil && ctx.Err() == nil {
		r.s.Log().Warn("ivr: exec-on-max failed", "app", app, "err", err)
	}
}

// confirm plays confirm-macro with the input and waits for confirm-key.
func (r *runner) confirm(ctx context.Context, m *Menu, digits string) bool {
	for range m.ConfirmAttempts {
		in, err := playback.GetDigits(ctx, r.s, playback.Collect{
			Prompt: "phrase:" + m.ConfirmMacro + ":" + digits, Min: 1, Max: 1,
			Timeout: m.Timeout, DigitTimeout: m.InterDigitTimeout,
		})
		if err != nil {
			return false
		}
		if in.Digits == m.ConfirmKey {
			return true
		}
		if in.Digits != "" {
			return false
		}
	}
	return false
}
