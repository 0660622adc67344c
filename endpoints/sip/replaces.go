package sip

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// replacesID names a dialog, as a Replaces header (RFC 3891) or a Refer-To URI's Replaces
// parameter does: Call-ID, to-tag and from-tag.
type replacesID struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// parseReplaces reads "callid;to-tag=x;from-tag=y[;early-only]".
func parseReplaces(v string) (replacesID, bool) {
	parts := strings.Split(strings.TrimSpace(v), ";")
	id := replacesID{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			id.toTag = val
		case "from-tag":
			id.fromTag = val
		case "early-only":
			id.earlyOnly = true
		}
	}
	return id, id.callID != "" && id.toTag != "" && id.fromTag != ""
}

// referReplaces returns the Replaces parameter of a Refer-To URI (attended transfer), which
// arrives URL-escaped ("?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2").
func referReplaces(rt *sip.ReferToHeader) (replacesID, bool) {
	if rt == nil || rt.Address.Headers == nil {
		return replacesID{}, false
	}
	for _, k := range rt.Address.Headers.Keys() {
		if !strings.EqualFold(k, "Replaces") {
			continue
		}
		v, _ := rt.Address.Headers.Get(k)
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		return parseReplaces(v)
	}
	return replacesID{}, false
}

// findDialog looks the dialog up on every profile: a call is stored under its Call-ID and our
// tag, which is one of the two tags (RFC 3891 names them from the sender's side, and senders
// differ on which side that is).
func (e *Endpoint) findDialog(id replacesID) *call {
	e.mu.Lock()
	profiles := make([]*Profile, 0, len(e.profiles))
	for _, p := range e.profiles {
		profiles = append(profiles, p)
	}
	e.mu.Unlock()
	for _, p := range profiles {
		for _, tag := range []string{id.toTag, id.fromTag} {
			if v, ok := p.calls.Load(callKey(id.callID, tag)); ok {
				c := v.(*call)
				if !c.s.HungUp() {
					return c
				}
			}
		}
	}
	return nil
}

// attendedTarget checks a REFER with Replaces: c's peer (the transferee) is to be joined with
// the peer of the replaced dialog (the transfer target). It returns both when that is possible.
func (p *Profile) attendedTarget(c *call, id replacesID) (transferee, target *core.Session, ok bool) {
	c2 := p.ep.findDialog(id)
	if c2 == nil || c2 == c || remoteHost(c2) != remoteHost(c) {
		return nil, nil, false // only the referrer's own other call can be replaced
	}
	transferee, target = c.s.Peer(), c2.s.Peer()
	if transferee == nil || target == nil || transferee == target {
		return nil, nil, false
	}
	return transferee, target, true
}

// completeAttended joins the transferee with the target (uuid_bridge): both are taken out of
// their bridges with the referrer's two channels, which follow them out and hang up.
func (p *Profile) completeAttended(transferee, target *core.Session) error {
	transferee.SetVar("transfer_source", target.UUID())
	target.SetVar("transfer_source", transferee.UUID())
	transferee.Take()
	target.Take()
	transferee.LeaveBridge()
	target.LeaveBridge()
	// Each must have finished with its old bridge (parked, taken) before the new one starts, or
	// its goroutine would still act on the old bridge's end once the new bridge cleared the mark.
	deadline := time.Now().Add(2 * time.Second)
	for transferee.State() != core.StatePark || target.State() != core.StatePark {
		if transferee.HungUp() || target.HungUp() {
			return core.ErrHungUp
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("transferee %s and target %s did not leave their calls", transferee.State(), target.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p.ep.h.UUIDBridge(transferee, target)
}

// inviteReplaces handles an INVITE with Replaces (RFC 3891): the new channel s takes the place of
// the replaced dialog's channel. Bridged, s is bridged to its peer; ringing (an outbound leg not
// yet answered: a pickup from a BLF key), s takes its caller. It returns the SIP status to refuse
// with, 0 when s's route is set.
func (p *Profile) inviteReplaces(req *sip.Request, c *call, s *core.Session) int {
	v := headerValue(req, "Replaces")
	if v == "" {
		return 0
	}
	if !c.auth.authed {
		return 403 // only an authenticated caller may take over somebody's call
	}
	id, ok := parseReplaces(v)
	if !ok {
		return 400
	}
	old := p.ep.findDialog(id)
	if old == nil {
		return 481
	}
	if id.earlyOnly && old.s.Answered() {
		return 486
	}
	s.SetVar("sip_replaces", v)
	s.SetVar("replaced_uuid", old.s.UUID())
	var target string
	switch peer := old.s.Peer(); {
	case peer != nil:
		target = peer.UUID()
	case old.out != nil && !old.s.Answered() && old.s.Originator() != nil:
		target = old.s.Originator().UUID()
	default:
		return 480 // a channel in an application, not in a call: there is nobody to join
	}
	old.s.SetVar("replaced_by", s.UUID())
	s.ExecuteActions([]core.Action{{App: "answer"}, {App: "intercept", Data: target}})
	return 0
}

// remoteHost is the host of the far end's contact: a referrer replaces only its own calls.
func remoteHost(c *call) string {
	return c.remoteTarget().Host
}
