// Package loopback is the "loopback" endpoint: loopback/<exten>[/<context>[/<dialplan>]] creates a
// pair of channels joined in-process. The outbound side is the leg the caller bridges to; the
// inbound side runs the dialplan for <exten> (or, with loopback/app=<app>[:<args>], just that app).
package loopback

import (
	"context"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func init() {
	core.RegisterEndpoint(core.EndpointInfo{
		Name:   "loopback",
		Module: "mod_loopback",
		New:    func(h *core.Host) (core.Endpoint, error) { return &endpoint{h: h}, nil },
	})
}

type endpoint struct{ h *core.Host }

func (e *endpoint) Name() string { return "loopback" }

// Target is a parsed loopback dial target.
type Target struct {
	Exten, Context, Dialplan string
	App, AppArgs             string // loopback/app=<app>[:<args>]
}

// ParseTarget splits "9196/default/XML" or "app=voicemail:default example.com 1000".
func ParseTarget(s string) Target {
	if rest, ok := strings.CutPrefix(s, "app="); ok {
		app, args, _ := strings.Cut(rest, ":")
		return Target{Exten: app, App: app, AppArgs: args}
	}
	parts := strings.SplitN(s, "/", 3)
	t := Target{Exten: parts[0]}
	if len(parts) > 1 {
		t.Context = parts[1]
	}
	if len(parts) > 2 {
		t.Dialplan = parts[2]
	}
	return t
}

// Originate starts the inbound half for the outbound session a that the core created.
func (e *endpoint) Originate(ctx context.Context, a *core.Session, target string) (core.Leg, error) {
	t := ParseTarget(target)
	if t.Exten == "" {
		return nil, core.Fail(core.CauseInvalidURL, "loopback target is empty")
	}
	if t.Context == "" {
		t.Context = "default"
	}
	if t.Dialplan == "" {
		t.Dialplan = "XML"
	}
	a.SetName("loopback/" + t.Exten + "-a")
	ap := a.Profile()
	p := &core.CallerProfile{
		Dialplan:       t.Dialplan,
		Context:        t.Context,
		DestNumber:     t.Exten,
		CallerIDName:   ap.CallerIDName,
		CallerIDNumber: ap.CallerIDNumber,
		ANI:            ap.ANI,
		NetworkAddr:    ap.NetworkAddr,
		Source:         "mod_loopback",
	}
	var vars [][2]string
	for _, kv := range a.Vars().List() {
		if kv[0] != "uuid" && kv[0] != "call_uuid" {
			vars = append(vars, kv)
		}
	}
	vars = append(vars, [2]string{"loopback_leg", "B"}, [2]string{"other_loopback_leg_uuid", a.UUID()})
	a.SetVar("loopback_leg", "A")
	pa, pb := media.NewPipe(media.PipeConfig{Rate: 8000, Ptime: 20 * time.Millisecond, Clock: e.h.Clock, Name: "loopback/" + t.Exten})
	b := core.NewSession(e.h, core.SessionOptions{
		Name:      "loopback/" + t.Exten + "-b",
		Direction: core.Inbound,
		Profile:   p,
		Vars:      vars,
	})
	pr := &pair{h: e.h, sess: [2]*core.Session{a, b}}
	legA := &leg{self: a, other: b, port: pa, pair: pr, side: sideA}
	legB := &leg{self: b, other: a, port: pb, pair: pr, side: sideB}
	b.SetLeg(legB)
	a.SetVar("other_loopback_leg_uuid", b.UUID())
	pa.OnDTMF(a.QueueDTMF)
	pb.OnDTMF(b.QueueDTMF)
	if t.App != "" {
		b.ExecuteActions([]core.Action{{App: t.App, Data: t.AppArgs}})
	}
	if err := b.Start(); err != nil {
		_ = pa.Close()
		_ = pb.Close()
		return nil, &core.CallError{Cause: core.CauseSwitchCongestion, Err: err}
	}
	if !core.True(a.Var("loopback_no_pre_answer")) {
		a.SignalProgress(true)
	}
	return legA, nil
}

// leg is one half of the pair; what one half signals, the other half observes.
type leg struct {
	self, other *core.Session
	port        *media.PipePort
	pair        *pair
	side        int // sideA (the leg the caller bridges to) or sideB (the one running the dialplan)
}

func (l *leg) Progress(ctx context.Context, withMedia bool) error {
	l.other.SignalProgress(withMedia)
	return nil
}

func (l *leg) Answer(ctx context.Context) error {
	l.other.SignalAnswer()
	l.pair.check() // both halves answered: a pair bridged early may bow out now
	return nil
}

// Bridged is core.BridgeWatcher: once both halves are bridged, the pair bows out.
func (l *leg) Bridged(peer *core.Session) { l.pair.bridged(l.side, peer) }

// Executing is core.ExecuteWatcher: loopback_bowout_on_execute.
func (l *leg) Executing(route *core.Route) { l.pair.onExecute(l, route) }

func (l *leg) Hangup(ctx context.Context, c core.Cause) error {
	l.other.Hangup(c)
	return l.port.Close()
}

func (l *leg) Port() media.Port { return l.port }

func (l *leg) SendDTMF(d media.DTMF) error { return l.port.SendDTMF(d) }

func (l *leg) Indicate(ctx context.Context, ind core.Indication) error { return nil }
