package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

// maxTransfers bounds transfer loops (FreeSWITCH's max_session_transfers default).
const maxTransfers = 70

// run is the session goroutine: it walks the state machine from CS_INIT to CS_DESTROY.
func (s *Session) run() {
	defer s.destroy()
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("session crashed", "panic", r)
				s.Hangup(CauseCrash)
			}
		}()
		s.states()
	}()
	s.hangupState()
}

func (s *Session) states() {
	s.setState(StateInit)
	s.publishChannel(event.ChannelCreate, nil)
	next := StateRouting
	if s.direction == Outbound {
		next = StateConsumeMedia
	}
	if s.transferPending() {
		next = StateRouting
	}
	s.mu.Lock()
	if s.next != 0 { // ExecuteActions before Start: run the given actions instead of hunting
		next = s.next
		s.next = 0
	}
	s.mu.Unlock()
	for next != StateHangup {
		if s.ctx.Err() != nil {
			break
		}
		s.setState(next)
		switch next {
		case StateRouting:
			next = s.routing()
		case StateExecute:
			next = s.execute()
		default: // PARK, CONSUME_MEDIA, EXCHANGE_MEDIA, HIBERNATE, SOFT_EXECUTE
			next = s.wait()
		}
	}
}

// setState records and publishes a state change. Only the session goroutine calls it.
func (s *Session) setState(st State) {
	if State(s.state.Load()) == st {
		return
	}
	s.state.Store(uint32(st))
	s.log.Debug("state change", "state", st.String())
	s.publishChannel(event.ChannelState, nil)
	s.runStateHandlers(st)
}

// setCallState records and publishes a call-state change (CHANNEL_CALLSTATE).
func (s *Session) setCallState(cs CallState) {
	old := CallState(s.callState.Swap(uint32(cs)))
	if old == cs {
		return
	}
	s.publishChannel(event.ChannelCallstate, func(e *event.Event) {
		e.Add("Original-Channel-Call-State", old.String())
		e.Add("Channel-Call-State-Number", strconv.Itoa(int(cs)))
	})
}

// routing hunts the dialplan (CS_ROUTING) and returns the next state.
func (s *Session) routing() State {
	if s.applyTransfer() {
		return StateHangup
	}
	p := s.Profile()
	s.vars.Set("call_uuid", s.uuid)
	route, err := s.hunt(p)
	if err != nil {
		if errors.Is(err, ErrNoRoute) {
			s.log.Info("No Route, Aborting", "destination", p.DestNumber, "context", p.Context)
			s.Hangup(CauseNoRouteDestination)
		} else {
			s.log.Error("dialplan failed", "err", err)
			s.Hangup(CauseDestinationOutOfOrder)
		}
		return StateHangup
	}
	if s.ctx.Err() != nil {
		return StateHangup
	}
	if s.transferPending() { // an inline action transferred
		return StateRouting
	}
	s.mu.Lock()
	s.route = route
	s.mu.Unlock()
	return StateExecute
}

// hunt tries each dialplan of the profile's comma-separated list ("XML,enum") in order.
func (s *Session) hunt(p CallerProfile) (*Route, error) {
	names := splitList(p.Dialplan, ',')
	if len(names) == 0 {
		names = []string{"XML"}
	}
	for _, n := range names {
		name, _, _ := strings.Cut(n, ":")
		dp, ok := s.h.Dialplan(name)
		if !ok {
			s.log.Warn("dialplan not found", "dialplan", name)
			continue
		}
		route, err := dp.Hunt(s.ctx, s, p.DestNumber, p.Context)
		if errors.Is(err, ErrNoRoute) {
			continue
		}
		return route, err
	}
	return nil, ErrNoRoute
}

// execute runs the route's actions one by one (CS_EXECUTE).
func (s *Session) execute() State {
	route := s.Route()
	if route == nil {
		return StateHangup
	}
	s.mu.Lock()
	interject := s.interject
	s.interject = nil
	s.mu.Unlock()
	if interject != nil {
		interject()
		if st, stop := s.interrupted(); stop {
			return st
		}
		return StatePark
	}
	s.notifyExecuting(route)
	for _, a := range route.Actions {
		if st, stop := s.interrupted(); stop {
			return st
		}
		err := s.runAction(a.App, a.Data, 1)
		if errors.Is(err, ErrUnknownApp) {
			s.log.Error("Invalid Application " + a.App)
			s.Hangup(CauseDestinationOutOfOrder)
			return StateHangup
		}
		s.runCommands()
	}
	if st, stop := s.interrupted(); stop {
		return st
	}
	s.log.Info(s.Name() + " has executed the last dialplan instruction, hanging up.")
	s.Hangup(CauseNormalClearing)
	return StateHangup
}

// interrupted reports whether execution must stop and which state comes next.
func (s *Session) interrupted() (State, bool) {
	if s.ctx.Err() != nil {
		return StateHangup, true
	}
	if s.transferPending() {
		return StateRouting, true
	}
	s.mu.Lock()
	next := s.next
	s.next = 0
	s.mu.Unlock()
	if next != 0 {
		return next, true
	}
	return 0, false
}

// ExecuteInterruptible runs an application loops times (at least once) on the session goroutine
// (from a command queued with Enqueue: ESL sendmsg execute, uuid_broadcast) so that Break,
// Transfer and Park stop it the way they stop dialplan applications. It is the one way to run an
// application that something else may interrupt.
func (s *Session) ExecuteInterruptible(app, data string, loops int) error {
	return s.runAction(app, data, loops)
}

// runAction executes one application, loops times, with an execution context that Transfer and
// Break cancel; a cancelled run ends the loop.
func (s *Session) runAction(app, data string, loops int) error {
	ctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	outer := s.execCancel // an app run from a command inside another app (a bridge) nests
	s.execCancel = func() { cancel(); callIf(outer) }
	s.mu.Unlock()
	defer func() {
		cancel()
		s.mu.Lock()
		s.execCancel = outer
		s.mu.Unlock()
	}()
	var err error
	for i := 0; i < max(loops, 1) && ctx.Err() == nil; i++ {
		err = s.Execute(ctx, app, data)
	}
	return err
}

func callIf(fn func()) {
	if fn != nil {
		fn()
	}
}

// wait is the loop of the states where the channel waits for others (park, an outbound leg
// waiting to be bridged, a bridged B-leg): it runs queued commands until something moves it.
func (s *Session) wait() State {
	if s.State() == StatePark {
		s.publishChannel(event.ChannelPark, nil)
		defer s.publishChannel(event.ChannelUnpark, nil)
	}
	for {
		if st, stop := s.interrupted(); stop {
			if st == StateRouting {
				s.leaveBridge() // a bridged B-leg transferred away (REFER, uuid_transfer)
			}
			return st
		}
		var bridgeDone <-chan struct{}
		s.mu.Lock()
		br := s.bridge
		s.mu.Unlock()
		if br != nil {
			bridgeDone = br.done
		}
		select {
		case <-s.ctx.Done():
			return StateHangup
		case <-s.cmdWake:
			s.runCommands()
		case d := <-s.dtmf:
			if br != nil {
				br.forwardDTMF(s, d)
			}
		case <-bridgeDone:
			s.afterBridgeB(br)
		}
	}
}

// Park moves the channel to CS_PARK once the running application returns.
func (s *Session) Park() {
	s.mu.Lock()
	s.next = StatePark
	s.mu.Unlock()
}

// Transfer sends the channel to dest in dialplan/context ("" keeps the current ones), interrupting
// whatever it is doing. Safe from any goroutine.
func (s *Session) Transfer(dest, dialplan, context string) {
	s.mu.Lock()
	s.transfer = &transferRequest{dest: dest, dialplan: dialplan, context: context}
	cancel := s.execCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.Enqueue(func() {}) // wake a waiting channel
}

// Break interrupts the running application (uuid_break) without hanging up.
func (s *Session) Break() {
	s.mu.Lock()
	cancel := s.execCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// TransferPending reports whether a transfer is waiting to be applied (the channel leaves its
// application for CS_ROUTING): an app must not hang the channel up after it (hangup_after_bridge).
func (s *Session) TransferPending() bool { return s.transferPending() }

func (s *Session) transferPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfer != nil
}

// applyTransfer turns a pending transfer into a new caller profile (FreeSWITCH clones the profile,
// records rdnis and transfer_history). It reports true when the channel had to hang up instead.
func (s *Session) applyTransfer() bool {
	s.mu.Lock()
	t := s.transfer
	s.transfer = nil
	if t == nil {
		s.mu.Unlock()
		return false
	}
	s.transfers++
	if s.transfers > maxTransfers {
		s.mu.Unlock()
		s.log.Error("too many transfers")
		s.Hangup(CauseExchangeRoutingError)
		return true
	}
	old := s.profile
	p := old.Clone()
	if t.dest == "" {
		t.dest = "service"
	}
	p.DestNumber = t.dest
	if t.dialplan != "" {
		p.Dialplan = t.dialplan
	}
	if t.context != "" {
		p.Context = t.context
	}
	p.RDNIS = old.DestNumber
	p.TransferSource = fmt.Sprintf("%d:%s:bl_xfer:%s/%s/%s", time.Now().Unix(), s.uuid, t.dest, p.Context, p.Dialplan)
	p.ProfileIndex = old.ProfileIndex + 1
	s.profile = p
	s.times.Transferred = time.Now()
	s.mu.Unlock()
	hist := s.vars.Value("transfer_history")
	entry := p.TransferSource
	if hist != "" {
		hist = "ARRAY::" + trimArray(hist) + "|:" + entry
	} else {
		hist = entry
	}
	s.vars.Set("transfer_history", hist)
	s.vars.Set("max_forwards", "")
	s.vars.Unset("temp_hold_music") // one-shot: FreeSWITCH resets it on every transfer
	return false
}

func trimArray(v string) string {
	if len(v) > 7 && v[:7] == "ARRAY::" {
		return v[7:]
	}
	return v
}

// PreAnswer sends early media (183 with SDP) on an unanswered inbound channel.
func (s *Session) PreAnswer(ctx context.Context) error {
	if s.Answered() || s.Early() {
		return nil
	}
	if l := s.Leg(); l != nil && s.direction == Inbound {
		if err := l.Progress(ctx, true); err != nil {
			return err
		}
	}
	s.markProgress(true)
	return nil
}

// RingReady sends 180 Ringing on an unanswered inbound channel.
func (s *Session) RingReady(ctx context.Context) error {
	if s.Answered() || s.Ringing() {
		return nil
	}
	if l := s.Leg(); l != nil && s.direction == Inbound {
		if err := l.Progress(ctx, false); err != nil {
			return err
		}
	}
	s.markProgress(false)
	return nil
}

// Answer answers the channel (200 OK on an inbound SIP leg).
func (s *Session) Answer(ctx context.Context) error {
	if s.Answered() {
		return nil
	}
	if s.HungUp() {
		return ErrHungUp
	}
	if l := s.Leg(); l != nil && s.direction == Inbound {
		if err := l.Answer(ctx); err != nil {
			return err
		}
	}
	s.markAnswered()
	return nil
}

// SignalProgress is called by an endpoint when the far end of an outbound leg reports 180
// (withMedia false) or 183 with SDP (withMedia true).
func (s *Session) SignalProgress(withMedia bool) { s.markProgress(withMedia) }

// SignalAnswer is called by an endpoint when the far end of an outbound leg answers.
func (s *Session) SignalAnswer() { s.markAnswered() }

func (s *Session) markProgress(withMedia bool) {
	s.mu.Lock()
	now := time.Now()
	first := false
	if withMedia {
		if s.times.ProgressMedia.IsZero() {
			s.times.ProgressMedia = now
			first = true
		}
	} else if s.times.Progress.IsZero() {
		s.times.Progress = now
		first = true
	}
	s.mu.Unlock()
	if !first || s.Answered() {
		return
	}
	if withMedia {
		s.publishChannel(event.ChannelProgressMedia, nil)
		s.setCallState(CallEarly)
		s.runExecuteOn("execute_on_pre_answer")
		s.runExecuteOn("execute_on_media")
	} else {
		s.publishChannel(event.ChannelProgress, nil)
		s.setCallState(CallRinging)
		s.runExecuteOn("execute_on_ring")
	}
	select {
	case s.progress <- struct{}{}:
	default:
	}
}

func (s *Session) markAnswered() {
	s.mu.Lock()
	if s.hungup || !s.times.Answered.IsZero() {
		s.mu.Unlock()
		return
	}
	s.times.Answered = time.Now()
	close(s.answered)
	s.mu.Unlock()
	s.publishChannel(event.ChannelAnswer, nil)
	s.setCallState(CallActive)
	s.runExecuteOn("execute_on_answer")
	s.runAPIOn("api_on_answer")
}

// Hangup ends the channel with cause. It is idempotent (the first cause wins) and safe from any
// goroutine; the session goroutine does the endpoint work in CS_HANGUP.
func (s *Session) Hangup(c Cause) {
	s.mu.Lock()
	if s.hungup {
		s.mu.Unlock()
		return
	}
	s.hungup = true
	s.cause = c
	s.times.Hungup = time.Now()
	started := s.started
	s.mu.Unlock()
	s.vars.Set("hangup_cause", c.String())
	s.vars.Set("hangup_cause_q850", strconv.Itoa(int(c.q850())))
	s.cancel(&CallError{Cause: c})
	if !started { // never admitted: nothing will run the state machine
		close(s.done)
	}
}

// hangupState runs CS_HANGUP, CS_REPORTING and hands over to destroy.
func (s *Session) hangupState() {
	s.mu.Lock()
	if !s.hungup { // the loop ended without a cause: treat as normal clearing
		s.mu.Unlock()
		s.Hangup(CauseNormalClearing)
		s.mu.Lock()
	}
	cause := s.cause
	s.mu.Unlock()
	// FreeSWITCH's switch_channel_perform_hangup: the state becomes CS_HANGUP, the call state
	// HANGUP is announced, then CHANNEL_HANGUP; the state machine's CHANNEL_STATE follows.
	prev := State(s.state.Swap(uint32(StateHangup)))
	s.log.Info(fmt.Sprintf("Hangup %s [%s] [%s]", s.Name(), prev, cause))
	s.setCallState(CallHangup)
	s.publishChannel(event.ChannelHangup, nil)
	s.publishChannel(event.ChannelState, nil)
	s.runStateHandlers(StateHangup)
	if l := s.Leg(); l != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := l.Hangup(ctx, cause); err != nil {
			s.log.Debug("endpoint hangup", "err", err)
		}
		cancel()
	}
	s.rtpStatsAtHangup()
	s.runAPIOn("api_hangup_hook")
	s.setState(StateReporting)
	s.setTimestamps()
	for _, fn := range s.h.reportingHooks() {
		fn(s)
	}
	s.runAPIOn("api_reporting_hook")
	s.publishChannel(event.ChannelHangupComplete, func(e *event.Event) {
		e.Add("Hangup-Cause", cause.String())
	})
}

// destroy runs CS_DESTROY: releases media, leaves the table, closes Done.
func (s *Session) destroy() {
	s.setState(StateDestroy)
	if p := s.Port(); p != nil {
		_ = p.Close()
	}
	s.publishChannel(event.ChannelDestroy, nil)
	s.h.remove(s)
	close(s.done)
}

// ExecuteActions makes a waiting channel (parked, or an originated leg waiting to be bridged) run
// actions as its route: originate's &app(args) and inline dialplans. Safe from any goroutine.
func (s *Session) ExecuteActions(actions []Action) { s.redirect(&Route{Actions: actions}, nil) }

// redirect interrupts whatever the channel runs and makes it execute route next, or interject
// (run on the channel goroutine in place of the route) when set.
func (s *Session) redirect(route *Route, interject func()) {
	s.mu.Lock()
	s.route = route
	s.next = StateExecute
	s.interject = interject
	cancel := s.execCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.Enqueue(func() {})
}
