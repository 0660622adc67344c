package loopback

import (
	"context"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

func init() {
	// unloop does nothing itself: its flag makes a loopback half that is about to run it hand its
	// extension to the real channel (FreeSWITCH's unloop, SAF_NO_LOOPBACK).
	core.RegisterApp(core.AppInfo{
		Name:   "unloop",
		Short:  "Tell loopback to unfold",
		Flags:  core.AppNoMedia | core.AppNoLoopback,
		App:    core.AppFunc(func(context.Context, *core.Session, string) error { return nil }),
		Module: "mod_loopback",
	})
}

// noCopy are the variables a bowout on execute does not hand over: the channel's identity and the
// pair's own bookkeeping.
var noCopy = map[string]bool{
	"uuid": true, "call_uuid": true, "loopback_leg": true, "other_loopback_leg_uuid": true,
	"loopback_hangup_cause": true, "loopback_bowout_other_uuid": true,
}

// onExecute is mod_loopback's channel_on_execute: a half about to run its extension with
// loopback_bowout_on_execute set, or holding an application that must not run on a loopback
// channel (unloop), gives its extension, caller profile and variables to the real channel on the
// other side and hangs up with bowout-hangup-cause; the real channel runs the extension itself.
func (p *pair) onExecute(l *leg, route *core.Route) {
	s := l.self
	if !core.True(s.Var("loopback_bowout_on_execute")) && !noLoopbackApp(route) {
		return
	}
	real := p.caller(1 - l.side)
	if real == nil || !claim(real) {
		return
	}
	if !p.used.CompareAndSwap(false, true) {
		release(real)
		return
	}
	s.Log().Info("loopback bowout: replacing loopback channel with real channel " + real.Name())
	e := s.NewEvent(event.Custom, "loopback::bowout")
	e.Add("Resigning-UUID", s.UUID())
	e.Add("Resigning-Peer-UUID", l.other.UUID())
	e.Add("Acquired-UUID", real.UUID())
	s.Host().Bus.Publish(e)
	s.SetVar("loopback_hangup_cause", "bowout")
	s.SetVar("loopback_bowout_other_uuid", real.UUID())
	// Taken, the real channel's bridge application neither fails over nor hangs up when the pair
	// goes: it parks, and then runs this half's extension.
	real.Take()
	s.Hangup(loadSettings(s).cause)
	real.LeaveBridge()
	go handOver(s, real, route)
}

// handOver gives real the extension of the half s once it has left the pair (parked).
func handOver(s, real *core.Session, route *core.Route) {
	defer release(real)
	if !waitAll(parked, real) {
		if !real.HungUp() {
			s.Log().Warn("loopback bowout: " + real.Name() + " did not leave the pair in time")
			real.Hangup(core.CauseNormalClearing)
		}
		return
	}
	noCopyList := map[string]bool{}
	for _, n := range strings.Split(s.Var("attended_transfer_no_copy"), ",") {
		noCopyList[strings.ToLower(strings.TrimSpace(n))] = true
	}
	for _, kv := range s.Vars().List() {
		if !noCopy[kv[0]] && !noCopyList[strings.ToLower(kv[0])] {
			real.SetVar(kv[0], kv[1])
		}
	}
	bp := s.Profile()
	real.UpdateProfile(func(cp *core.CallerProfile) {
		cp.DestNumber, cp.Context, cp.Dialplan = bp.DestNumber, bp.Context, bp.Dialplan
		cp.CallerIDName, cp.CallerIDNumber = bp.CallerIDName, bp.CallerIDNumber
	})
	var acts []core.Action
	for _, a := range route.Actions {
		if !a.Inline { // inline actions ran during the hunt; their variables were copied above
			acts = append(acts, a)
		}
	}
	real.Untake()
	real.ExecuteActions(acts)
}

// caller finds the real channel behind half side: the channel it is bridged to or, while it is
// still being dialled, the channel dialling it, past loopback pairs that allow bowout.
func (p *pair) caller(side int) *core.Session {
	cur, s := p, side
	for range maxChain {
		x := cur.sess[s]
		peer := x.Peer()
		if peer == nil {
			peer = x.Originator()
		}
		if peer == nil || peer.HungUp() {
			return nil
		}
		l, ok := peer.Leg().(*leg)
		if !ok || !bowoutAllowed(peer) {
			return peer
		}
		if l.pair == p {
			return nil
		}
		cur, s = l.pair, 1-l.side
	}
	return nil
}

// noLoopbackApp reports whether the route runs an application flagged core.AppNoLoopback.
func noLoopbackApp(route *core.Route) bool {
	if route == nil {
		return false
	}
	for _, a := range route.Actions {
		if info, ok := core.LookupApp(a.App); ok && info.Flags&core.AppNoLoopback != 0 {
			return true
		}
	}
	return false
}
