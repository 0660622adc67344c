// Package bridge is FreeSWITCH's bridge application: originate the dial string, give the caller
// ringback or the callee's early media meanwhile, join the legs on answer, and afterwards decide
// what the A-leg does (continue_on_fail, hangup_after_bridge, park/transfer_after_bridge).
package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

func init() {
	core.RegisterApp(core.AppInfo{
		Name:   "bridge",
		Syntax: "<channel_url>",
		Short:  "Bridge Audio",
		Flags:  core.AppNoMedia,
		App:    core.AppFunc(Bridge),
		Module: "mod_dptools",
	})
}

// Bridge runs the bridge application on the A-leg s.
func Bridge(ctx context.Context, s *core.Session, dial string) error {
	dial = strings.TrimSpace(dial)
	if dial == "" {
		return nil
	}
	if api := s.Var("api_before_bridge"); api != "" {
		cmd, args, _ := strings.Cut(api, " ")
		_, _ = s.Host().APIOutput(ctx, cmd, args)
	}
	early := newEarly(s)
	defer early.stop()
	if core.True(s.Var("instant_ringback")) {
		early.ringback(ctx)
	}
	b, err := s.Host().Originate(ctx, dial, core.OriginateOptions{
		Originator: s,
		OnProgress: func(leg *core.Session, withMedia bool) {
			early.progress(ctx, leg, withMedia)
		},
	})
	// The early media of the leg that answered stays joined: the bridge takes the join over.
	joined := early.take(b)
	if err != nil {
		if taken(ctx, s) {
			return nil // intercepted or broken away: the new owner decides what happens next
		}
		return handleFailure(ctx, s, err)
	}
	if s.HungUp() {
		callIf(joined)
		b.Hangup(core.CauseOriginatorCancel)
		return nil
	}
	if !s.Answered() {
		inheritCodec(s, b)
		if err := s.Answer(ctx); err != nil {
			callIf(joined)
			b.Hangup(core.CauseNormalTemporaryFailure)
			return err
		}
	}
	if err := s.BridgeJoined(ctx, b, joined); err != nil {
		b.Hangup(core.CauseNormalClearing)
		return err
	}
	bCause := b.HangupCause()
	s.SetVar("bridge_hangup_cause", bCause.String())
	s.SetVar("last_bridge_hangup_cause", bCause.String())
	s.RecordBridgeOutcome(b)
	if taken(ctx, s) {
		return nil
	}
	afterBridge(s, bCause)
	return nil
}

// taken reports whether the application was interrupted while the channel lives on: uuid_break,
// or another channel taking this one (intercept, valet_park).
func taken(ctx context.Context, s *core.Session) bool {
	if s.HungUp() {
		return false
	}
	return ctx.Err() != nil || s.Taken()
}

// afterBridge applies what the A-leg does once an answered bridge ends.
func afterBridge(s *core.Session, bCause core.Cause) {
	if s.HungUp() || ctxTransferred(s) {
		return
	}
	if api := s.Var("api_after_bridge"); api != "" {
		cmd, args, _ := strings.Cut(api, " ")
		_, _ = s.Host().APIOutput(context.Background(), cmd, args)
	}
	switch {
	case core.True(s.Var("park_after_bridge")):
		s.Park()
	case s.Var("transfer_after_bridge") != "":
		parts := strings.SplitN(s.Var("transfer_after_bridge"), ":", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		s.Transfer(parts[0], parts[1], parts[2])
	case s.Var("exec_after_bridge_app") != "":
		app, arg := s.Var("exec_after_bridge_app"), s.Var("exec_after_bridge_arg")
		s.Enqueue(func() { _ = s.Execute(s.Context(), app, arg) })
	case s.Var("hangup_after_bridge") == "explicit" || core.True(s.Var("hangup_after_bridge")):
		if bCause == core.CauseNone {
			bCause = core.CauseNormalClearing
		}
		s.Hangup(bCause)
	}
}

func ctxTransferred(s *core.Session) bool {
	return s.State() == core.StateRouting || s.TransferPending() // e.g. the callee REFERred us
}

// handleFailure is switch_channel_handle_cause: continue the dialplan or hang up the A-leg.
func handleFailure(ctx context.Context, s *core.Session, err error) error {
	var ce *core.CallError
	cause := core.CauseNormalUnspecified
	sip := 0
	if errors.As(err, &ce) {
		cause, sip = ce.Cause, ce.SIP
		if n, ok := strings.CutPrefix(ce.ProtoCause(), "sip:"); ok {
			sip, _ = strconv.Atoi(n)
		}
	}
	s.Log().Info("Originate Failed.  Cause: " + cause.String())
	s.SetVar("originate_failed_cause", cause.String())
	if s.HungUp() {
		return nil
	}
	if t := s.Var("transfer_on_fail"); t != "" {
		parts := core.SplitArgs(t, 3)
		if len(parts) > 0 && parts[0] == "auto_cause" {
			parts[0] = cause.String()
		}
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		s.Transfer(parts[0], parts[1], parts[2])
		return nil
	}
	if cause == core.CauseAttendedTransfer {
		s.Hangup(cause)
		return nil
	}
	if v := s.Var("continue_on_fail"); v != "" {
		if core.True(v) || causeListed(v, cause, sip) {
			return nil
		}
		s.Hangup(cause)
		return nil
	}
	if v := s.Var("failure_causes"); v != "" {
		if causeListed(v, cause, sip) {
			s.Hangup(cause)
		}
		return nil
	}
	switch cause {
	case core.CauseNoAnswer, core.CauseNoUserResponse, core.CauseOriginatorCancel:
		return nil
	}
	s.Hangup(cause)
	return nil
}

// causeListed reports whether a comma list names the cause (by name or number) or its SIP status.
func causeListed(list string, c core.Cause, sip int) bool {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.EqualFold(item, c.String()) {
			return true
		}
		if n, err := strconv.Atoi(item); err == nil && (n == int(c) || (sip != 0 && n == sip)) {
			return true
		}
	}
	return false
}

// early manages what the caller hears while the B-leg rings: generated ringback, or the B-leg's own
// early media joined to the A-leg. It runs on the A-leg's goroutine only (Originate delivers
// OnProgress there), so it needs no lock.
type early struct {
	s         *core.Session
	cancel    context.CancelFunc
	done      chan struct{}
	joined    func()        // stops the join of joinedLeg's early media to the caller
	joinedLeg *core.Session // the leg whose early media the caller hears
	playing   bool
}

func newEarly(s *core.Session) *early { return &early{s: s} }

// progress reacts to a leg's 180/183 as FreeSWITCH's originate does with ignore_early_media unset,
// true or ring_ready.
func (e *early) progress(ctx context.Context, leg *core.Session, withMedia bool) {
	s := e.s
	if s.Answered() && s.Var("transfer_ringback") == "" {
		return
	}
	// The {} and [] blocks of the dial string land on the B-leg, A-leg variables were copied there by
	// originate, so the B-leg's value is the one in force.
	iem := strings.ToLower(leg.Var("ignore_early_media"))
	if withMedia && iem != "true" && iem != "consume" && iem != "ring_ready" && leg.Port() != nil {
		e.joinEarly(ctx, leg)
		return
	}
	if s.Var("ringback") == "" && !s.Answered() {
		_ = s.RingReady(ctx)
		return
	}
	e.ringback(ctx)
}

// ringback plays the ringback (or transfer_ringback when answered) to the caller until stopped.
func (e *early) ringback(ctx context.Context) {
	s := e.s
	spec := s.Var("ringback")
	if s.Answered() {
		spec = s.Var("transfer_ringback")
	}
	if spec == "" {
		return
	}
	if e.playing || e.joined != nil {
		return
	}
	e.playing = true
	if !s.Answered() {
		if err := s.PreAnswer(ctx); err != nil {
			return
		}
	}
	st := s.Media()
	if st == nil {
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	e.cancel, e.done = cancel, done
	go func() {
		defer close(done)
		for rctx.Err() == nil {
			src, err := Source(spec, st.Rate())
			if err != nil {
				s.Log().Warn("bad ringback", "ringback", spec, "err", err)
				return
			}
			if err := media.Play(rctx, st, src); err != nil {
				return
			}
		}
	}()
}

// Source turns a ringback value (a tone spec like %(2000,4000,440,480), tone_stream://...,
// silence) into audio.
func Source(spec string, rate int) (media.Source, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case strings.HasPrefix(spec, "silence"):
		return audio.NewSilence(rate, 1000, 0), nil
	case strings.HasPrefix(spec, "tone_stream://"):
		return audio.NewToneGenerator(strings.TrimPrefix(spec, "tone_stream://"), rate)
	}
	return audio.NewToneGenerator(spec, rate)
}

// joinEarly connects the B-leg's early media to the caller.
func (e *early) joinEarly(ctx context.Context, leg *core.Session) {
	e.stopRingback()
	if e.joined != nil {
		return
	}
	if !e.s.Answered() {
		inheritCodec(e.s, leg)
		if err := e.s.PreAnswer(ctx); err != nil {
			return
		}
	}
	a, b := e.s.Port(), leg.Port()
	if a == nil || b == nil {
		return
	}
	stop, err := media.Bridge(a, b)
	if err != nil {
		return
	}
	e.joined, e.joinedLeg = stop, leg
}

// take ends the ringing phase for winner, the leg that answered (nil when none did): ringback
// stops, and the join of winner's early media is handed to the caller, who passes it to the
// bridge; any other join stops.
func (e *early) take(winner *core.Session) (joined func()) {
	e.stopRingback()
	if winner != nil && e.joinedLeg == winner {
		joined = e.joined
		e.joined, e.joinedLeg = nil, nil
		return joined
	}
	e.stop()
	return nil
}

func callIf(fn func()) {
	if fn != nil {
		fn()
	}
}

func (e *early) stopRingback() {
	cancel, done := e.cancel, e.done
	e.cancel, e.done, e.playing = nil, nil, false
	if cancel != nil {
		cancel()
		<-done
	}
}

func (e *early) stop() {
	e.stopRingback()
	joined := e.joined
	e.joined, e.joinedLeg = nil, nil
	if joined != nil {
		joined()
	}
}
