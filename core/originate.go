package core

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

// DefaultOriginateTimeout is FreeSWITCH's SWITCH_DEFAULT_TIMEOUT.
const DefaultOriginateTimeout = 60 * time.Second

// OriginateOptions tune Host.Originate.
type OriginateOptions struct {
	// Originator is the A-leg (bridge), nil for the originate API.
	Originator *Session
	// Vars are set on every new leg before the dial string's own blocks.
	Vars DialVars
	// Timeout is the answer timeout when neither originate_timeout nor call_timeout say otherwise.
	Timeout time.Duration
	// CallerIDName and CallerIDNumber are the defaults for legs without an A-leg (originate API).
	CallerIDName, CallerIDNumber string
	// OnProgress is called when a leg reports 180 or 183, on the goroutine that called Originate
	// (the A-leg's, for the bridge app), so it may drive the A-leg (RingReady, PreAnswer, early
	// media) as the Leg contract requires. Every progress a leg reported before Originate
	// returns is delivered before it returns.
	OnProgress func(leg *Session, withMedia bool)
}

// originateVarsFromA are A-leg variables FreeSWITCH copies into the originate parameters.
var originateVarsFromA = []string{
	"group_confirm_key", "group_confirm_file", "group_confirm_timeout", "forked_dial",
	"fail_on_single_reject", "hangup_on_single_reject", "ignore_early_media", "bridge_early_media",
	"originate_continue_on_timeout", "ignore_ring_ready", "return_ring_ready", "ring_ready",
	"instant_ringback", "progress_timeout", "language", "originate_timeout", "leg_timeout",
}

// Originate dials a dial string and returns the answered leg, running in CS_CONSUME_MEDIA until
// someone bridges it, or a *CallError with the failure cause.
func (h *Host) Originate(ctx context.Context, dial string, opts OriginateOptions) (*Session, error) {
	if a := opts.Originator; a != nil {
		ctx = WithSession(ctx, a)
		dial = a.Expand(dial)
	} else {
		dial = h.Expand(ctx, dial)
	}
	ds, err := ParseDialString(dial)
	if err != nil {
		return nil, &CallError{Cause: CauseInvalidURL, Reason: err.Error()}
	}
	base := DialVars{}
	if a := opts.Originator; a != nil {
		for _, n := range originateVarsFromA {
			if v, ok := a.vars.Get(n); ok {
				base = append(base, [2]string{n, v})
			}
		}
		for _, n := range splitList(a.vars.Value("export_vars"), ',') {
			if v, ok := a.vars.Get(n); ok {
				base = append(base, [2]string{strings.TrimPrefix(n, "nolocal:"), v})
			}
		}
		if v := a.vars.Value("call_timeout"); v != "" {
			base = append(base, [2]string{"call_timeout", v})
		}
	}
	base = append(base, opts.Vars...)
	base = append(base, ds.Enterprise...)
	o := &originator{h: h, opts: opts}
	var s *Session
	if opts.OnProgress == nil {
		s, err = o.enterprise(ctx, ds, base)
	} else {
		s, err = o.relayProgress(ctx, ds, base)
	}
	o.recordOutcome(s, err)
	return s, err
}

type originator struct {
	h    *Host
	opts OriginateOptions
	// progress carries the legs' 180/183 from their goroutines to the one that called Originate.
	progress chan legProgress
}

type legProgress struct {
	leg       *Session
	withMedia bool
}

// relayProgress races the legs in another goroutine and, on this one (the caller's: the A-leg's
// inside the bridge app), runs OnProgress for each 180/183 they report. The legs wait for their
// progress to be taken, so once the race is decided the buffer holds all that is left.
func (o *originator) relayProgress(ctx context.Context, ds *DialString, base DialVars) (*Session, error) {
	type result struct {
		s   *Session
		err error
	}
	o.progress = make(chan legProgress, 8)
	done := make(chan result, 1)
	go func() {
		s, err := o.enterprise(ctx, ds, base)
		done <- result{s, err}
	}()
	for {
		select {
		case p := <-o.progress:
			o.opts.OnProgress(p.leg, p.withMedia)
		case r := <-done:
			for {
				select {
				case p := <-o.progress:
					o.opts.OnProgress(p.leg, p.withMedia)
				default:
					return r.s, r.err
				}
			}
		}
	}
}

// reportProgress hands a leg's 180/183 to the goroutine running OnProgress; it gives up when the
// leg or the originate ends first.
func (o *originator) reportProgress(ctx context.Context, s *Session) {
	if o.progress == nil {
		return
	}
	select {
	case o.progress <- legProgress{s, s.Early()}:
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
}

// enterprise runs the ":_:" parts in parallel; the first to answer wins.
func (o *originator) enterprise(ctx context.Context, ds *DialString, base DialVars) (*Session, error) {
	if len(ds.Seqs) == 1 {
		return o.sequence(ctx, ds.Seqs[0], base)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		s   *Session
		err error
	}
	results := make(chan result, len(ds.Seqs))
	for _, seq := range ds.Seqs {
		go func(seq DialSeq) {
			s, err := o.sequence(ctx, seq, base)
			results <- result{s, err}
		}(seq)
	}
	var winner *Session
	var lastErr error
	for range ds.Seqs {
		r := <-results
		if r.err == nil && winner == nil {
			winner = r.s
			cancel()
			continue
		}
		if r.err == nil {
			r.s.Hangup(CauseLoseRace)
			continue
		}
		lastErr = r.err
	}
	if winner != nil {
		return winner, nil
	}
	return nil, lastErr
}

// sequence tries "|" groups one after another.
func (o *originator) sequence(ctx context.Context, seq DialSeq, base DialVars) (*Session, error) {
	vars := append(append(DialVars{}, base...), seq.Vars...)
	var lastErr error
	for _, g := range seq.Groups {
		gv := append(append(DialVars{}, vars...), g.Vars...)
		s, err := o.group(ctx, g, gv)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
		var ce *CallError
		if errors.As(err, &ce) && ce.Cause == CauseNoAnswer {
			if v, _ := gv.Get("originate_continue_on_timeout"); !True(v) {
				break
			}
		}
	}
	return nil, lastErr
}

// answerTimeout picks the answer timeout from originate_timeout, call_timeout, the option, or 60 s.
func (o *originator) answerTimeout(vars DialVars) time.Duration {
	for _, name := range []string{"originate_timeout", "call_timeout"} {
		if v, ok := vars.Get(name); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if o.opts.Timeout > 0 {
		return o.opts.Timeout
	}
	return DefaultOriginateTimeout
}

// group rings "," legs at once; the first to answer wins and the others get LOSE_RACE.
func (o *originator) group(ctx context.Context, g DialGroup, vars DialVars) (*Session, error) {
	timeout := o.answerTimeout(vars)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		i   int
		s   *Session
		err error
	}
	results := make(chan result, len(g.Legs))
	var mu sync.Mutex
	var legs []*Session
	track := func(s *Session) {
		mu.Lock()
		legs = append(legs, s)
		mu.Unlock()
	}
	for i, l := range g.Legs {
		lv := append(append(DialVars{}, vars...), l.Vars...)
		go func(i int, l DialLeg) {
			s, err := o.leg(ctx, l, lv, timeout, track)
			results <- result{i, s, err}
		}(i, l)
	}
	var winner *Session
	failures := make([]error, len(g.Legs)) // in dial-string order, so the reported cause is stable
	for range g.Legs {
		r := <-results
		switch {
		case r.err == nil && winner == nil:
			winner = r.s
			cancel() // the others lose the race
		case r.err == nil:
			r.s.Hangup(CauseLoseRace)
		default:
			failures[r.i] = r.err
			if v, _ := vars.Get("fail_on_single_reject"); v != "" && winner == nil && singleReject(v, r.err) {
				cancel()
			}
		}
	}
	if winner != nil {
		return winner, nil
	}
	var errs []error
	for _, err := range failures {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if ctx.Err() != nil && len(errs) == 0 {
		return nil, Fail(CauseOriginatorCancel, "")
	}
	return nil, pickFailure(errs)
}

// singleReject reports whether fail_on_single_reject (true or a cause list) covers err.
func singleReject(v string, err error) bool {
	var ce *CallError
	if !errors.As(err, &ce) {
		return false
	}
	if ce.Cause == CauseNoAnswer || ce.Cause == CauseOriginatorCancel || ce.Cause == CauseLoseRace {
		return false
	}
	if True(v) {
		return true
	}
	for _, c := range splitList(strings.TrimPrefix(v, "!"), ',') {
		if ParseCause(c) == ce.Cause {
			return !strings.HasPrefix(v, "!")
		}
	}
	return strings.HasPrefix(v, "!")
}

// pickFailure returns the most telling failure of a group: a real rejection beats a timeout or a
// cancel, as FreeSWITCH reports the cause of the leg that failed for a reason.
func pickFailure(errs []error) error {
	if len(errs) == 0 {
		return Fail(CauseNormalUnspecified, "no legs")
	}
	for _, err := range errs {
		var ce *CallError
		if errors.As(err, &ce) && ce.Cause != CauseLoseRace && ce.Cause != CauseOriginatorCancel {
			return err
		}
	}
	return errs[len(errs)-1]
}

// leg dials one target and waits for answer, failure, timeout or cancel.
func (o *originator) leg(ctx context.Context, l DialLeg, vars DialVars, timeout time.Duration, track func(*Session)) (*Session, error) {
	if v, ok := vars.Get("leg_timeout"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	if v, ok := vars.Get("leg_delay_start"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			if !sleepCtx(ctx, time.Duration(n)*time.Second) {
				return nil, Fail(CauseOriginatorCancel, "")
			}
		}
	}
	ep, ok := o.h.Endpoint(l.Endpoint)
	if !ok {
		return nil, &CallError{Cause: CauseChanNotImplemented, Reason: "no endpoint " + l.Endpoint}
	}
	if r, ok := ep.(Resolver); ok {
		vs := NewVars()
		for _, kv := range vars {
			vs.Set(kv[0], kv[1])
		}
		dial, err := r.Resolve(ctx, l.Target, vs)
		if err != nil {
			return nil, err
		}
		ds, err := ParseDialString(dial)
		if err != nil {
			return nil, &CallError{Cause: CauseInvalidURL, Reason: err.Error()}
		}
		nested := append(DialVars{}, vs.List()...)
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		sub := &originator{h: o.h, opts: o.opts, progress: o.progress}
		sub.opts.Timeout = timeout
		s, err := sub.enterprise(tctx, ds, nested)
		if err != nil && ctx.Err() == nil && tctx.Err() != nil {
			return nil, Fail(CauseNoAnswer, "timeout")
		}
		return s, err
	}

	s := o.newLegSession(l, vars)
	if err := s.Start(); err != nil {
		return nil, &CallError{Cause: CauseSwitchCongestion, Reason: err.Error()}
	}
	track(s)
	if a := o.opts.Originator; a != nil {
		a.SetOriginatee(s)
	}
	leg, err := ep.Originate(ctx, s, l.Target)
	if err != nil {
		var ce *CallError
		if !errors.As(err, &ce) {
			ce = &CallError{Cause: CauseDestinationOutOfOrder, Err: err}
		}
		s.Hangup(ce.Cause)
		return nil, ce
	}
	if leg != nil {
		s.SetLeg(leg)
	}
	s.publishChannel(event.ChannelOriginate, nil)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-s.AnsweredC():
			return s, nil
		case <-s.ctx.Done():
			if s.Answered() {
				return s, nil
			}
			return nil, s.failure()
		case <-s.ProgressC():
			o.reportProgress(ctx, s)
		case <-timer.C:
			s.Hangup(CauseNoAnswer)
			return nil, Fail(CauseNoAnswer, "timeout")
		case <-ctx.Done():
			if s.Answered() {
				return s, nil
			}
			cause := CauseOriginatorCancel
			if a := o.opts.Originator; a == nil || !a.HungUp() {
				cause = CauseLoseRace
			}
			if a := o.opts.Originator; a != nil && a.HungUp() {
				cause = CauseOriginatorCancel
			}
			s.Hangup(cause)
			return nil, Fail(cause, "")
		}
	}
}

// failure describes why an outbound leg ended before answer.
func (s *Session) failure() error {
	return &CallError{Cause: s.HangupCause(), Proto: s.Outcome().Proto}
}

// newLegSession builds the B-leg channel with FreeSWITCH's caller-id rules.
func (o *originator) newLegSession(l DialLeg, vars DialVars) *Session {
	a := o.opts.Originator
	get := func(name string) string {
		if v, ok := vars.Get(name); ok {
			return v
		}
		return ""
	}
	p := &CallerProfile{Dialplan: "XML", Context: "default", DestNumber: l.Target, Source: "goswitch"}
	var aName, aNum string
	if a != nil {
		ap := a.Profile()
		p.Context = ap.Context
		p.NetworkAddr = ap.NetworkAddr
		aName = cmp.Or(a.vars.Value("effective_caller_id_name"), ap.CallerIDName)
		aNum = cmp.Or(a.vars.Value("effective_caller_id_number"), ap.CallerIDNumber)
		p.ANI = ap.ANI
		p.RDNIS = ap.RDNIS
	} else {
		aName, aNum = o.opts.CallerIDName, o.opts.CallerIDNumber
	}
	// effective_caller_id_* count on the A-leg only (switch_core_session_outgoing_channel reads
	// the originating channel): in a dial string, or among the callee's directory variables that
	// user/ adds to the new leg, they are the B-leg's own for its later calls, never what the
	// callee is shown.
	p.CallerIDName = cmp.Or(get("origination_caller_id_name"), aName)
	p.CallerIDNumber = cmp.Or(get("origination_caller_id_number"), aNum, "0000000000")
	p.OrigCallerIDName, p.OrigCallerIDNum = p.CallerIDName, p.CallerIDNumber
	p.CalleeIDName = cmp.Or(get("origination_callee_id_name"), "Outbound Call")
	p.CalleeIDNumber = cmp.Or(get("origination_callee_id_number"), l.Target)
	if p.ANI == "" {
		p.ANI = p.CallerIDNumber
	}
	opts := SessionOptions{
		UUID:       get("origination_uuid"),
		Name:       cmp.Or(get("origination_channel_name"), l.Endpoint+"/"+l.Target),
		Direction:  Outbound,
		Profile:    p,
		Originator: a,
		Vars:       vars,
	}
	return NewSession(o.h, opts)
}

// recordOutcome sets FreeSWITCH's originate variables on the A-leg.
func (o *originator) recordOutcome(s *Session, err error) {
	a := o.opts.Originator
	if a == nil {
		return
	}
	if err == nil {
		a.vars.Set("originate_disposition", "SUCCESS")
		a.vars.Set("DIALSTATUS", "SUCCESS")
		a.vars.Set("originated_legs", s.uuid+";"+s.Name()+";"+s.Profile().CallerIDNumber)
		return
	}
	var ce *CallError
	cause := CauseNormalUnspecified
	if errors.As(err, &ce) {
		cause = ce.Cause
		a.setLastBridgeProto(ce.ProtoCause())
	}
	a.vars.Set("originate_disposition", cause.String())
	a.vars.Set("originate_failed_cause", cause.String())
	a.vars.Set("DIALSTATUS", dialStatus(cause))
}

// dialStatus is FreeSWITCH's Asterisk-style DIALSTATUS.
func dialStatus(c Cause) string {
	switch c {
	case CauseUserBusy:
		return "BUSY"
	case CauseNoAnswer, CauseNoUserResponse:
		return "NOANSWER"
	case CauseOriginatorCancel:
		return "CANCEL"
	case CauseNormalClearing:
		return "SUCCESS"
	}
	return "CHANUNAVAIL"
}
