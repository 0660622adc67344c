package core

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Leg is what an endpoint implements for one channel (FreeSWITCH's io routines). Progress, Answer,
// Hangup and Indicate are called from the session goroutine only: originate hands outbound legs'
// 180/183 to the A-leg's goroutine, and other channels' applications go through Session.Do, so
// an endpoint needs no lock to order its responses. Port and SendDTMF may be called from any
// goroutine (a bridged peer forwards digits).
type Leg interface {
	// Progress sends 180 (withMedia false) or 183 with SDP (withMedia true) on an inbound leg.
	Progress(ctx context.Context, withMedia bool) error
	// Answer answers an inbound leg (200 OK with SDP).
	Answer(ctx context.Context) error
	// Hangup ends the leg: BYE when answered, CANCEL for an unanswered outbound leg, a final
	// response for an unanswered inbound one. Called once, in CS_HANGUP.
	Hangup(ctx context.Context, c Cause) error
	// Port returns the leg's media, or nil while there is none.
	Port() media.Port
	// SendDTMF sends a digit the way the leg negotiated (RFC 4733, SIP INFO, in-band).
	SendDTMF(d media.DTMF) error
	// Indicate asks the endpoint to signal something to the far end (hold, display, ...).
	Indicate(ctx context.Context, ind Indication) error
}

// Indication is a request to signal something to the far end.
type Indication struct {
	Kind string // "hold", "unhold", "ringback", "display", "redirect", "respond"
	Data string
	Code int
}

// Sentinel errors of the session API.
var (
	ErrNoRoute    = errors.New("no route")
	ErrUnknownApp = errors.New("invalid application")
	ErrNotInline  = errors.New("this application cannot be executed inline")
	ErrHungUp     = errors.New("channel hung up")
	ErrNoMedia    = errors.New("channel has no media")
)

// SessionOptions describe a new channel.
type SessionOptions struct {
	UUID       string // default: a new UUID
	Name       string // channel name, e.g. sofia/internal/1000@10.0.0.5
	Direction  Direction
	Profile    *CallerProfile
	Vars       [][2]string // initial channel variables, in order
	Leg        Leg
	Originator *Session          // the A-leg of an outbound leg
	Now        func() time.Time  // clock for time-of-day routing; default time.Now
	Config     *xmlconf.Snapshot // default: the host's snapshot in force
}

// Session is one channel: its state machine, variables, caller profile and the goroutine that runs
// them. Other goroutines talk to it through Hangup, Transfer, Enqueue and the Signal* methods.
type Session struct {
	h         *Host
	uuid      string
	direction Direction
	created   time.Time
	vars      *Vars
	log       *slog.Logger
	snap      *xmlconf.Snapshot
	now       func() time.Time
	expander  Expander // built once: Expand is on the hot path of every hunt and app

	rtpCounted atomic.Bool // rtpStatsAtHangup ran: the port's counters are in the host's totals

	ctx    context.Context
	cancel context.CancelCauseFunc

	state     atomic.Uint32
	callState atomic.Uint32

	mu            sync.Mutex
	name          string
	profile       *CallerProfile
	leg           Leg
	originator    *Session
	originatee    *Session
	bridge        *bridge
	cause         Cause
	outcome       Outcome // how the leg's endpoint saw the call end (SetOutcome)
	hungup        bool
	times         Times
	transfer      *transferRequest
	execCancel    context.CancelFunc
	next          State // a state an app asked for (park)
	route         *Route
	appName       string
	appData       string
	lastApp       string
	lastArg       string
	dtmfHook      func(media.DTMF) bool
	peerHook      func(from *Session, d media.DTMF) bool // digits the bridged peer receives
	transfers     int
	started       bool
	scoped        map[string]string
	interject     func() // run instead of the route's first action (uuid_bridge)
	private       map[string]any
	holding       bool // the far end put the channel on hold (MarkHold)
	stateHandlers []StateHandler

	cmdMu    sync.Mutex
	cmdQ     []func()      // commands for the session goroutine; unbounded so senders never block
	cmdWake  chan struct{} // signalled when cmdQ gains work
	dtmf     chan media.DTMF
	answered chan struct{}
	progress chan struct{}
	done     chan struct{}
}

// Times are the moments FreeSWITCH stamps on a channel (CDR *_stamp variables and Caller-*-Time).
type Times struct {
	Created, Progress, ProgressMedia, Answered, Bridged, Hungup, Transferred time.Time
}

type transferRequest struct {
	dest, dialplan, context string
}

// NewSession builds a channel without starting it; Start admits it and runs its goroutine. A
// session that is never started serves dry runs (the trace command).
func NewSession(h *Host, opts SessionOptions) *Session {
	id := opts.UUID
	if id == "" {
		id = uuid.NewString()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	snap := opts.Config
	if snap == nil {
		snap = h.Config()
	}
	p := opts.Profile
	if p == nil {
		p = &CallerProfile{}
	}
	p = p.Clone()
	p.UUID = id
	if p.Dialplan == "" {
		p.Dialplan = "XML"
	}
	if p.Context == "" {
		p.Context = "default"
	}
	created := time.Now()
	if p.Created.IsZero() {
		p.Created = created
	}
	if p.ChanName == "" {
		p.ChanName = opts.Name
	}
	s := &Session{
		h:          h,
		uuid:       id,
		direction:  opts.Direction,
		created:    created,
		vars:       newChannelVars(),
		snap:       snap,
		now:        now,
		name:       opts.Name,
		profile:    p,
		leg:        opts.Leg,
		originator: opts.Originator,
		times:      Times{Created: created},
		cmdWake:    make(chan struct{}, 1),
		dtmf:       make(chan media.DTMF, 64),
		answered:   make(chan struct{}),
		progress:   make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	s.log = h.Log.With("uuid", id)
	s.expander = Expander{Var: s.lookup, Global: h.Global, API: s.expandAPI}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	for _, kv := range opts.Vars {
		s.vars.Set(kv[0], kv[1])
	}
	s.vars.Set("uuid", id)
	return s
}

// Start admits the session into the host's table (ErrSessionLimit when over max-sessions or
// sessions-per-second) and starts its goroutine.
func (s *Session) Start() error {
	if err := s.h.admit(s); err != nil {
		return err
	}
	s.mu.Lock()
	if s.hungup {
		// Hung up between NewSession and here (a BYE or CANCEL raced the INVITE): Hangup has
		// closed Done already, so the state machine must not run.
		s.mu.Unlock()
		s.h.remove(s)
		return ErrHungUp
	}
	s.started = true
	s.mu.Unlock()
	go s.run()
	return nil
}

// UUID returns the channel's unique id.
func (s *Session) UUID() string { return s.uuid }

// Host returns the host the session belongs to.
func (s *Session) Host() *Host { return s.h }

// Name returns the channel name.
func (s *Session) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// SetName renames the channel (endpoints learn the final name once the target is known).
func (s *Session) SetName(name string) {
	s.mu.Lock()
	s.name = name
	s.profile.ChanName = name
	s.mu.Unlock()
}

// Direction returns inbound or outbound.
func (s *Session) Direction() Direction { return s.direction }

// State returns the channel state.
func (s *Session) State() State { return State(s.state.Load()) }

// CallState returns the call state.
func (s *Session) CallState() CallState { return CallState(s.callState.Load()) }

// Context is cancelled when the channel hangs up; context.Cause gives a *CallError.
func (s *Session) Context() context.Context { return s.ctx }

// Done is closed when the channel has been destroyed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Log returns the channel's logger (carries the uuid).
func (s *Session) Log() *slog.Logger { return s.log }

// Vars returns the channel variables.
func (s *Session) Vars() *Vars { return s.vars }

// Config returns the configuration snapshot this call started with.
func (s *Session) Config() *xmlconf.Snapshot { return s.snap }

// Now returns the session's clock (time-of-day routing).
func (s *Session) Now() time.Time { return s.now() }

// Created returns when the channel was created.
func (s *Session) Created() time.Time { return s.created }

// Profile returns a copy of the caller profile.
func (s *Session) Profile() CallerProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.profile
}

// UpdateProfile changes the caller profile under the session lock (set_profile_var, endpoints).
func (s *Session) UpdateProfile(fn func(p *CallerProfile)) {
	s.mu.Lock()
	fn(s.profile)
	s.mu.Unlock()
}

// Leg returns the endpoint leg.
func (s *Session) Leg() Leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leg
}

// SetLeg attaches the endpoint leg.
func (s *Session) SetLeg(l Leg) {
	s.mu.Lock()
	s.leg = l
	s.mu.Unlock()
}

// Port returns the leg's media port, or nil.
func (s *Session) Port() media.Port {
	if l := s.Leg(); l != nil {
		return l.Port()
	}
	return nil
}

// Media returns the stream applications read and write, or nil when the leg has no media.
func (s *Session) Media() media.Stream {
	if p := s.Port(); p != nil {
		return p.Stream()
	}
	return nil
}

// Originator returns the A-leg that originated this outbound leg, if any.
func (s *Session) Originator() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.originator
}

// Originatee returns the last B-leg this channel originated, if any.
func (s *Session) Originatee() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.originatee
}

// SetOriginatee records the B-leg this channel originated (bleg_ variables, CDR bleg_uuid).
func (s *Session) SetOriginatee(b *Session) {
	s.mu.Lock()
	s.originatee = b
	s.mu.Unlock()
}

// Peer returns the channel this one is bridged to, or nil.
func (s *Session) Peer() *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bridge == nil {
		return nil
	}
	return s.bridge.other(s)
}

// Times returns the channel's timestamps.
func (s *Session) Times() Times {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.times
}

// Route returns the route the last hunt produced.
func (s *Session) Route() *Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.route
}

// CurrentApp returns the application running now and its data.
func (s *Session) CurrentApp() (app, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appName, s.appData
}

// Answered reports whether the channel is answered.
func (s *Session) Answered() bool {
	select {
	case <-s.answered:
		return true
	default:
		return false
	}
}

// AnsweredC is closed when the channel is answered.
func (s *Session) AnsweredC() <-chan struct{} { return s.answered }

// Early reports whether the channel has early media (183 sent or received).
func (s *Session) Early() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.times.ProgressMedia.IsZero()
}

// Ringing reports whether 180 was sent or received.
func (s *Session) Ringing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.times.Progress.IsZero()
}

// ProgressC receives a value each time the leg reports progress (180/183).
func (s *Session) ProgressC() <-chan struct{} { return s.progress }

// HangupCause returns the cause the channel hung up with (NONE while up).
func (s *Session) HangupCause() Cause {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// HungUp reports whether Hangup has been called.
func (s *Session) HungUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hungup
}

// Var returns a channel variable, falling back to caller-profile fields and globals, as
// FreeSWITCH's expansion does.
func (s *Session) Var(name string) string {
	v, _ := s.lookup(name)
	return v
}

// SetVar sets a channel variable; an empty value unsets it.
func (s *Session) SetVar(name, value string) { s.vars.Set(name, value) }

// UnsetVar removes a channel variable.
func (s *Session) UnsetVar(name string) { s.vars.Unset(name) }

// Field returns a caller-profile field by FreeSWITCH name (case-insensitive).
func (s *Session) Field(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch strings.ToLower(name) {
	case "chan_name":
		return s.name, true
	case "created_time":
		return epochMicros(s.times.Created), true
	case "answered_time":
		return epochMicros(s.times.Answered), true
	case "progress_time":
		return epochMicros(s.times.Progress), true
	case "progress_media_time":
		return epochMicros(s.times.ProgressMedia), true
	case "hungup_time":
		return epochMicros(s.times.Hungup), true
	case "transferred_time":
		return epochMicros(s.times.Transferred), true
	}
	return s.profile.field(name)
}

// lookup resolves a name the way ${name} does: scoped, channel vars, profile fields (aleg_/bleg_
// select the originator's or originatee's profile), then globals.
func (s *Session) lookup(name string) (string, bool) {
	s.mu.Lock()
	if v, ok := s.scoped[name]; ok {
		s.mu.Unlock()
		return v, true
	}
	s.mu.Unlock()
	if v, ok := s.vars.Get(name); ok {
		return v, true
	}
	if rest, ok := strings.CutPrefix(name, "aleg_"); ok {
		a := s.Originator()
		if a == nil {
			a = s
		}
		if v, ok := a.Field(rest); ok {
			return v, true
		}
	}
	if rest, ok := strings.CutPrefix(name, "bleg_"); ok {
		if b := s.Originatee(); b != nil {
			if v, ok := b.Field(rest); ok {
				return v, true
			}
		}
		return "", false
	}
	if v, ok := s.Field(name); ok {
		return v, true
	}
	return s.h.Global(name)
}

// Expand expands ${var}, $${global} and ${api(args)} in the channel's context.
func (s *Session) Expand(tmpl string) string { return s.expander.Expand(tmpl) }

// expandAPI runs ${cmd(args)} for Expand.
func (s *Session) expandAPI(cmd, args string) string {
	out, err := s.h.APIOutput(WithSession(s.ctx, s), cmd, args)
	if err != nil && out == "" {
		s.log.Debug("expansion api failed", "api", cmd, "err", err)
	}
	return out
}

type sessionKey struct{}

// WithSession returns ctx carrying s, so API commands run from an expansion know their channel.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFromContext returns the session carried by ctx, if any.
func SessionFromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(*Session)
	return s, ok
}

// Private returns a value a module stored on the channel (FreeSWITCH's channel private data).
func (s *Session) Private(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.private[key]
}

// SetPrivate stores a module's value on the channel; nil deletes it.
func (s *Session) SetPrivate(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.private == nil {
		s.private = map[string]any{}
	}
	if v == nil {
		delete(s.private, key)
		return
	}
	s.private[key] = v
}
