// Package dptools holds FreeSWITCH's basic dialplan tools (mod_dptools): call control (answer,
// hangup, transfer, park, ...), variables (set, export, unset, ...), logging and events, echo and
// DTMF helpers. Media-heavy apps live in apps/playback, bridge in apps/bridge.
package dptools

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

const module = "mod_dptools"

func reg(name, syntax, short string, flags core.AppFlags, fn core.AppFunc) {
	core.RegisterApp(core.AppInfo{Name: name, Syntax: syntax, Short: short, Flags: flags, App: fn, Module: module})
}

const (
	noMedia = core.AppNoMedia
	inline  = core.AppNoMedia | core.AppRoutingSafe
)

func init() {
	reg("answer", "", "Answer the call", noMedia, answer)
	reg("pre_answer", "", "Pre-Answer the call", noMedia, preAnswer)
	reg("ring_ready", "[queued]", "Indicate Ring_Ready", noMedia, ringReady)
	reg("acknowledge_call", "", "Indicate Call Acknowledged", noMedia, noop)
	reg("hangup", "[<cause>]", "Hangup the call", noMedia, hangup)
	reg("respond", "<respond_data>", "Send session respond", noMedia, respond)
	reg("deflect", "<deflect_data>", "Send call deflect", noMedia, indicate("deflect"))
	reg("redirect", "<redirect_data>", "Send session redirect", noMedia, indicate("redirect"))
	reg("send_display", "<text>[|<number>]", "Send session a new display", noMedia, sendDisplay)
	reg("set", "<varname>=<value>", "Set a channel variable", inline, set)
	reg("export", "<varname>=<value>", "Export a channel variable across a bridge", inline, export)
	reg("bridge_export", "<varname>=<value>", "Export a channel variable across a bridge", inline, export)
	reg("unset", "<varname>", "Unset a channel variable", inline, unset)
	reg("multiset", "<varname>=<value> <var2>=<val2>", "Set many channel variables", inline, multiset)
	reg("multiunset", "<varname> <var2>", "Unset many channel variables", inline, multiunset)
	reg("push", "<varname>=<value>", "Set a channel variable", inline, push(false))
	reg("unshift", "<varname>=<value>", "Set a channel variable", inline, push(true))
	reg("set_global", "<varname>=<value>", "Set a global variable", inline, setGlobal)
	reg("set_profile_var", "<varname>=<value>", "Set a caller profile variable", inline, setProfileVar)
	reg("log", "<log_level> <log_string>", "Logs to the logger", inline, logApp)
	reg("info", "[<level>]", "Display Call Info", inline, info)
	reg("event", "<event_data>", "Fire an event", inline, fireEvent)
	reg("eval", "<expression>", "Do Nothing", inline, noop)
	reg("stop", "", "Do Nothing", inline, noop)
	reg("presence", "<rpid> <status> [<id>]", "Send Presence", inline, noop)
	reg("verbose_events", "[true|false]", "Make ALL Events verbose.", inline, verboseEvents)
	reg("novideo", "", "Refuse Inbound Video", inline, noop)
	reg("cng_plc", "", "Do PLC on CNG frames", inline, noop)
	reg("early_hangup", "", "Enable early hangup", inline, noop)
	reg("set_zombie_exec", "", "Enable Zombie Execution", inline, noop)
	reg("sleep", "<pausemilliseconds>", "Pause a channel", noMedia, sleep) // SAF_SUPPORT_NOMEDIA: no 183 for a sleep before answer
	reg("transfer", "<exten> [<dialplan> <context>]", "Transfer a channel", noMedia, transfer)
	reg("execute_extension", "<extension> <dialplan> <context>", "Execute an extension", noMedia, executeExtension)
	reg("park", "", "Park", noMedia, park)
	reg("echo", "", "Echo", 0, echo)
	reg("delay_echo", "<delay ms>", "echo audio at a specified delay", 0, delayEcho)
	reg("send_dtmf", "<dtmf_data>", "Send dtmf to be sent", noMedia, sendDTMF)
	reg("flush_dtmf", "", "flush any queued dtmf", noMedia, func(ctx context.Context, s *core.Session, _ string) error { s.FlushDTMF(); return nil })
	reg("wait_for_answer", "", "Wait for call to be answered", noMedia, waitForAnswer)
	reg("sched_hangup", "[+]<time> [<cause>]", "Schedule a hangup in the future", noMedia, schedHangup)
	reg("sched_transfer", "[+]<time> <extension> <dialplan> <context>", "Schedule a transfer in the future", noMedia, schedTransfer)
	reg("hash", "[insert|delete]/<realm>/<key>/<val>", "Insert into the hashtable", noMedia, hashApp)
	reg("bind_meta_app", "<key> [a|b|ab] [a|b|o|s|i|1] <app>", "Bind a key to an application", noMedia, bindMetaApp)
	reg("unbind_meta_app", "[<key>]", "Unbind a key from an application", noMedia, unbindMetaApp)
	reg("break", "", "Break", noMedia, func(ctx context.Context, s *core.Session, _ string) error {
		if p := s.Peer(); p != nil {
			p.Break()
		}
		return nil
	})
}

func noop(ctx context.Context, s *core.Session, args string) error { return nil }

func answer(ctx context.Context, s *core.Session, args string) error { return s.Answer(ctx) }

func preAnswer(ctx context.Context, s *core.Session, args string) error { return s.PreAnswer(ctx) }

func ringReady(ctx context.Context, s *core.Session, args string) error { return s.RingReady(ctx) }

func hangup(ctx context.Context, s *core.Session, args string) error {
	s.Hangup(core.ParseCause(args))
	return nil
}

// respond sends a SIP response ("respond 404", "respond 407" challenges) through the endpoint.
func respond(ctx context.Context, s *core.Session, args string) error {
	codeStr, reason, _ := strings.Cut(strings.TrimSpace(args), " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil {
		return fmt.Errorf("respond: bad code %q", codeStr)
	}
	if l := s.Leg(); l != nil {
		if err := l.Indicate(ctx, core.Indication{Kind: "respond", Code: code, Data: reason}); err != nil {
			return err
		}
	}
	if code >= 300 {
		s.Hangup(core.CauseFromSIP(code))
	}
	return nil
}

func indicate(kind string) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		if l := s.Leg(); l != nil {
			return l.Indicate(ctx, core.Indication{Kind: kind, Data: args})
		}
		return nil
	}
}

// sendDisplay updates what the far end's phone shows for the other party; a phone that refuses
// it is logged, not hung up.
func sendDisplay(ctx context.Context, s *core.Session, args string) error {
	if l := s.Leg(); l != nil {
		if err := l.Indicate(ctx, core.Indication{Kind: "display", Data: s.Expand(args)}); err != nil {
			s.Log().Info("send_display: " + err.Error())
		}
	}
	return nil
}

// sendDTMF: <digits>[@<duration ms>].
func sendDTMF(ctx context.Context, s *core.Session, args string) error {
	digits, durStr, _ := strings.Cut(strings.TrimSpace(args), "@")
	dur := 250 * time.Millisecond
	if ms, err := strconv.Atoi(durStr); err == nil && ms > 0 {
		dur = time.Duration(ms) * time.Millisecond
	}
	return s.SendDTMF(ctx, digits, dur)
}

func waitForAnswer(ctx context.Context, s *core.Session, args string) error {
	select {
	case <-s.AnsweredC():
	case <-ctx.Done():
	}
	return nil
}

// hashApp runs the hash API (insert/delete/select on the shared in-memory hash).
func hashApp(ctx context.Context, s *core.Session, args string) error {
	out, err := s.Host().APIOutput(core.WithSession(ctx, s), "hash", args)
	if err != nil {
		return err
	}
	if strings.HasPrefix(out, "-ERR") {
		return fmt.Errorf("hash: %s", strings.TrimSpace(out))
	}
	return nil
}
