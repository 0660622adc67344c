// Package dptools holds FreeSWITCH's basic dialplan tools (mod_dptools): call control (answer,
// hangup, transfer, park, ...), variables (set, export, unset, ...), logging and events, echo and
// DTMF helpers. Media-heavy apps live in apps/playback, bridge in apps/bridge.
package dptools

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/media"
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

// splitVar splits "name=value" (or FreeSWITCH's older "name,value" form when there is no '=').
func splitVar(args string) (name, value string, ok bool) {
	if n, v, found := strings.Cut(args, "="); found {
		return strings.TrimSpace(n), v, true
	}
	if n, v, found := strings.Cut(args, ","); found {
		return strings.TrimSpace(n), v, true
	}
	return strings.TrimSpace(args), "", args != ""
}

func set(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok || name == "" {
		return fmt.Errorf("set: no variable name in %q", args)
	}
	if strings.Contains(value, "${") || strings.Contains(value, "$${") {
		value = s.Expand(value)
	}
	s.SetVar(name, value)
	return nil
}

// export sets locally (unless nolocal:) and adds the name to export_vars so every leg this channel
// originates later gets it.
func export(ctx context.Context, s *core.Session, args string) error {
	prefix := ""
	for _, p := range []string{"nolocal:", "_nolocal_"} {
		if rest, ok := strings.CutPrefix(args, p); ok {
			args, prefix = rest, "nolocal:"
		}
	}
	name, value, ok := splitVar(args)
	if !ok || name == "" {
		return fmt.Errorf("export: no variable name in %q", args)
	}
	// As in FreeSWITCH, a nolocal export is stored as "nolocal:<name>" and listed that way in
	// export_vars; originate strips the prefix on the new leg.
	name = prefix + name
	s.SetVar(name, value)
	for _, e := range strings.Split(s.Vars().Value("export_vars"), ",") {
		if strings.TrimSpace(e) == name {
			return nil
		}
	}
	if v := s.Vars().Value("export_vars"); v != "" {
		s.SetVar("export_vars", v+","+name)
	} else {
		s.SetVar("export_vars", name)
	}
	return nil
}

func unset(ctx context.Context, s *core.Session, args string) error {
	s.UnsetVar(strings.TrimSpace(args))
	return nil
}

// multiset takes "a=1 b=2", or "^^<d>a=1<d>b=2" with a custom delimiter.
func multiset(ctx context.Context, s *core.Session, args string) error {
	var items []string
	if strings.HasPrefix(args, "^^") && len(args) > 3 {
		items = strings.Split(args[3:], string(args[2]))
	} else {
		items = core.SplitArgs(args, 0)
	}
	for _, it := range items {
		if err := set(ctx, s, it); err != nil {
			return err
		}
	}
	return nil
}

func multiunset(ctx context.Context, s *core.Session, args string) error {
	for _, n := range core.SplitArgs(args, 0) {
		s.UnsetVar(n)
	}
	return nil
}

// push appends (or, with front, prepends) to a FreeSWITCH array variable.
func push(front bool) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		name, value, ok := splitVar(args)
		if !ok {
			return fmt.Errorf("push: bad data %q", args)
		}
		cur := s.Vars().Value(name)
		if cur == "" {
			s.SetVar(name, value)
			return nil
		}
		items := []string{cur}
		if rest, ok := strings.CutPrefix(cur, "ARRAY::"); ok {
			items = strings.Split(rest, "|:")
		}
		if front {
			items = append([]string{value}, items...)
		} else {
			items = append(items, value)
		}
		s.SetVar(name, "ARRAY::"+strings.Join(items, "|:"))
		return nil
	}
}

func setGlobal(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok {
		return fmt.Errorf("set_global: bad data %q", args)
	}
	s.Host().SetGlobal(name, value)
	return nil
}

func setProfileVar(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok {
		return fmt.Errorf("set_profile_var: bad data %q", args)
	}
	var err error
	s.UpdateProfile(func(p *core.CallerProfile) {
		switch strings.ToLower(name) {
		case "caller_id_name":
			p.CallerIDName = value
		case "caller_id_number":
			p.CallerIDNumber = value
		case "callee_id_name":
			p.CalleeIDName = value
		case "callee_id_number":
			p.CalleeIDNumber = value
		case "destination_number":
			p.DestNumber = value
		case "context":
			p.Context = value
		case "dialplan":
			p.Dialplan = value
		case "ani":
			p.ANI = value
		case "aniii":
			p.ANIII = value
		case "rdnis":
			p.RDNIS = value
		case "network_addr":
			p.NetworkAddr = value
		case "username":
			p.Username = value
		case "source":
			p.Source = value
		default:
			err = fmt.Errorf("set_profile_var: unknown field %q", name)
		}
	})
	return err
}

// LogLevel maps FreeSWITCH level names (switch_log_str2level: console, alert, crit, err,
// warning, notice, info, debug, or 0-7) to slog levels, so `log CRIT text` prints as [CRIT] and
// `log ALERT text` as [ALERT] like FreeSWITCH. debug1..debug10 are debug.
func LogLevel(name string) (slog.Level, bool) {
	if n, ok := logging.ParseLevel(name); ok {
		return logging.ToSlog(n), true
	}
	if l := strings.ToLower(name); strings.HasPrefix(l, "debug") {
		if _, err := strconv.Atoi(l[len("debug"):]); err == nil {
			return slog.LevelDebug, true
		}
	}
	return slog.LevelDebug, false
}

func logApp(ctx context.Context, s *core.Session, args string) error {
	first, rest, _ := strings.Cut(args, " ")
	level, ok := LogLevel(first)
	msg := rest
	if !ok { // no level word: the whole string is the message, at DEBUG
		msg = args
	}
	s.Log().Log(ctx, level, msg)
	return nil
}

func info(ctx context.Context, s *core.Session, args string) error {
	level, ok := LogLevel(args)
	if !ok {
		level = slog.LevelInfo
	}
	e := s.NewEvent("CHANNEL_DATA", "")
	var b strings.Builder
	b.WriteString("CHANNEL_DATA:\n")
	for _, h := range e.Headers {
		fmt.Fprintf(&b, "%s: [%s]\n", h.Name, h.Value)
	}
	s.Log().Log(ctx, level, b.String())
	return nil
}

// fireEvent fires CHANNEL_APPLICATION, or the event named by Event-Name (CUSTOM with
// Event-Subclass), with the channel's data and the given headers.
func fireEvent(ctx context.Context, s *core.Session, args string) error {
	name, sub := "CHANNEL_APPLICATION", ""
	var hdrs [][2]string
	delim := ","
	if strings.HasPrefix(args, "^^") && len(args) > 3 {
		delim = args[2:3]
		args = args[3:]
	}
	for _, kv := range strings.Split(args, delim) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		switch {
		case strings.EqualFold(k, "Event-Name"):
			name = strings.TrimSpace(v)
		case strings.EqualFold(k, "Event-Subclass"):
			sub = strings.TrimSpace(v)
			if name == "CHANNEL_APPLICATION" {
				name = "CUSTOM"
			}
		default:
			hdrs = append(hdrs, [2]string{k, v})
		}
	}
	e := s.NewEvent(name, sub)
	for _, h := range hdrs {
		e.Add(h[0], h[1])
	}
	s.Host().Bus.Publish(e)
	return nil
}

func verboseEvents(ctx context.Context, s *core.Session, args string) error {
	v := "true"
	if strings.TrimSpace(args) != "" && !core.True(args) {
		v = "false"
	}
	s.SetVar("verbose_events", v)
	return nil
}

func sleep(ctx context.Context, s *core.Session, args string) error {
	ms, err := strconv.Atoi(strings.TrimSpace(args))
	if err != nil || ms <= 0 {
		return nil
	}
	deadline := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer deadline.Stop()
	// Digits stay queued for later applications unless sleep_eat_digits says to swallow them.
	var digits <-chan media.DTMF
	if core.True(s.Var("sleep_eat_digits")) {
		digits = s.DTMF()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-digits:
		}
	}
}

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

func park(ctx context.Context, s *core.Session, args string) error {
	s.Park()
	return nil
}

// echo sends back what it hears until the call ends.
// echoer is a leg port that returns its packets as they came (rtp.RTPPort.Echo).
type echoer interface{ Echo() (stop func()) }

// echo returns what the caller sends: RTP legs packet by packet (same payload, same ptime,
// nothing when nothing arrives, as FreeSWITCH's echo writes back the frames it reads); other
// legs frame by frame through their stream.
func echo(ctx context.Context, s *core.Session, args string) error {
	if l := s.Leg(); l != nil {
		if e, ok := l.Port().(echoer); ok {
			stop := e.Echo()
			defer stop()
			<-ctx.Done()
			return nil
		}
	}
	st := s.Media()
	if st == nil {
		return core.ErrNoMedia
	}
	var f media.Frame
	for {
		if err := st.ReadFrame(ctx, &f); err != nil {
			return nil
		}
		if err := st.WriteFrame(ctx, &f); err != nil {
			return nil
		}
	}
}

// delayEcho sends back what it hears ms milliseconds later, whatever the frame size: a ring of
// that many samples (silence at first) through which every sample passes.
func delayEcho(ctx context.Context, s *core.Session, args string) error {
	st := s.Media()
	if st == nil {
		return core.ErrNoMedia
	}
	ms, _ := strconv.Atoi(strings.TrimSpace(args))
	if ms <= 0 {
		ms = 1000
	}
	var (
		f    media.Frame
		ring []int16
		pos  int
		rate int
		out  []int16
	)
	for {
		if err := st.ReadFrame(ctx, &f); err != nil {
			return nil
		}
		if f.Rate != rate || ring == nil {
			rate = f.Rate
			ring, pos = make([]int16, max(1, ms*rate/1000)), 0
		}
		out = out[:0]
		for _, x := range f.PCM {
			out = append(out, ring[pos])
			ring[pos] = x
			if pos++; pos == len(ring) {
				pos = 0
			}
		}
		w := media.Frame{PCM: out, Rate: f.Rate, TS: f.TS}
		if err := st.WriteFrame(ctx, &w); err != nil {
			return nil
		}
	}
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

// parseSchedTime reads "[+]<secs>": relative with '+', else an absolute epoch.
func parseSchedTime(v string) (time.Duration, bool) {
	rel := strings.HasPrefix(v, "+")
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64)
	if err != nil {
		return 0, false
	}
	if rel {
		return time.Duration(n) * time.Second, true
	}
	return time.Until(time.Unix(n, 0)), true
}

func schedHangup(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 2)
	if len(a) == 0 {
		return fmt.Errorf("sched_hangup: no time")
	}
	d, ok := parseSchedTime(a[0])
	if !ok {
		return fmt.Errorf("sched_hangup: bad time %q", a[0])
	}
	cause := core.CauseAllottedTimeout
	if len(a) > 1 {
		cause = core.ParseCause(a[1])
	}
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			s.Hangup(cause)
		case <-s.Context().Done():
		}
	}()
	return nil
}

func schedTransfer(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 4)
	if len(a) < 2 {
		return fmt.Errorf("sched_transfer: need time and extension")
	}
	d, ok := parseSchedTime(a[0])
	if !ok {
		return fmt.Errorf("sched_transfer: bad time %q", a[0])
	}
	for len(a) < 4 {
		a = append(a, "")
	}
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			s.Transfer(a[1], a[2], a[3])
		case <-s.Context().Done():
		}
	}()
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
