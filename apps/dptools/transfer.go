package dptools

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// transfer: [-bleg|-both] <exten> [<dialplan> [<context>]].
func transfer(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 0)
	if len(a) == 0 {
		a = []string{""}
	}
	targets := []*core.Session{s}
	switch a[0] {
	case "-bleg":
		a = a[1:]
		targets = nil
		if p := s.Peer(); p != nil {
			targets = []*core.Session{p}
		}
	case "-both":
		a = a[1:]
		if p := s.Peer(); p != nil {
			targets = append(targets, p)
		}
	}
	dest, dp, dctx := "", "", ""
	if len(a) > 0 {
		dest = a[0]
	}
	if len(a) > 1 {
		dp = a[1]
	}
	if len(a) > 2 {
		dctx = a[2]
	}
	if dp == "" {
		dp = firstNonEmpty(s.Var("force_transfer_dialplan"), "")
	}
	if dctx == "" {
		dctx = s.Var("force_transfer_context")
	}
	for _, t := range targets {
		if t != s && dctx == "" {
			dctx = s.Profile().Context
		}
		if p := t.Peer(); p != nil && len(targets) == 1 {
			// The other leg is left behind: FreeSWITCH hangs it up with BLIND_TRANSFER unless it
			// was the one transferred.
			t.SetVar("hangup_after_bridge", "false")
			p.Hangup(core.CauseBlindTransfer)
		}
		t.Transfer(dest, dp, dctx)
	}
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, x := range v {
		if x != "" {
			return x
		}
	}
	return ""
}

// maxExtensionDepth limits execute_extension nesting (FreeSWITCH's SWITCH_MAX_STACKS).
const maxExtensionDepth = 16

// executeExtension hunts an extension and runs its actions inline, like a subroutine.
func executeExtension(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 3)
	if len(a) == 0 {
		return fmt.Errorf("execute_extension: no extension")
	}
	p := s.Profile()
	dpName, dctx := p.Dialplan, p.Context
	if len(a) > 1 {
		dpName = a[1]
	}
	if len(a) > 2 {
		dctx = a[2]
	}
	depth, _ := strconv.Atoi(s.Vars().Value("_execute_extension_depth"))
	if depth >= maxExtensionDepth {
		return fmt.Errorf("execute_extension: too deep")
	}
	dp, ok := s.Host().Dialplan(strings.SplitN(dpName, ",", 2)[0])
	if !ok {
		return fmt.Errorf("execute_extension: no dialplan %s", dpName)
	}
	// FreeSWITCH hunts with a temporary caller profile carrying the new destination.
	s.UpdateProfile(func(cp *core.CallerProfile) { cp.DestNumber, cp.Context = a[0], dctx })
	route, err := dp.Hunt(ctx, s, a[0], dctx)
	s.UpdateProfile(func(cp *core.CallerProfile) { cp.DestNumber, cp.Context = p.DestNumber, p.Context })
	if err != nil {
		return err
	}
	s.SetVar("_execute_extension_depth", strconv.Itoa(depth+1))
	defer s.SetVar("_execute_extension_depth", strconv.Itoa(depth))
	for _, act := range route.Actions {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.Execute(ctx, act.App, act.Data); err != nil && core.IsUnknownApp(err) {
			return err
		}
	}
	return nil
}
