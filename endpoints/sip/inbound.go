package sip

import (
	"context"
	"errors"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

func callKey(callID, localTag string) string { return callID + "|" + localTag }

func tagOf(params sip.HeaderParams) string {
	t, _ := params.Get("tag")
	return t
}

// onInvite handles initial INVITEs (and re-INVITEs, by To-tag), in stages: checkInvite
// (Contact, Max-Forwards, Require), admission, authorizeInvite (ACL and digest, auth.go),
// sessionInterval (Session-Expires against Min-SE), callerProfile (caller id, variables,
// context; callerprofile.go), then startInbound, which runs the call until its final response.
func (p *Profile) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tagOf(req.To().Params) != "" {
		p.onReInvite(req, tx)
		return
	}
	if !p.checkInvite(req, tx) {
		return
	}
	p.callsIn.Add(1)
	// Admission first, as mod_sofia does: a full or overloaded switch spends nothing on the
	// call (no digest check, no RTP port).
	if err := p.ep.h.CheckAdmission(core.Inbound); err != nil {
		p.refuseInvite(err, func(r *sip.Response) error { return tx.Respond(r) }, req)
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))

	src := sourceAddr(req)
	az, ok := p.authorizeInvite(req, tx, src)
	if !ok {
		return
	}
	sessExp, ok := p.sessionInterval(req, tx)
	if !ok {
		return
	}
	ds, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	if az.username != "" {
		p.useChallengeTag(ds, req)
	}
	c := newInboundCall(p, ds)
	c.sessExpires = sessExp
	c.remoteCSeq = req.CSeq().SeqNo
	c.key = callKey(req.CallID().Value(), tagOf(ds.InviteRequest.To().Params))
	c.auth.authed = az.aclOK || az.user != nil

	prof, vars := p.callerProfile(req, src, az)
	c.auth.context = prof.Context
	s := core.NewSession(p.ep.h, core.SessionOptions{Direction: core.Inbound, Name: prof.ChanName, Profile: prof, Vars: vars, Leg: c})
	c.s = s
	p.startInbound(c, req)
}

// startInbound answers the offer (or prepares ours for a late offer), applies Replaces, starts
// the session and keeps the INVITE handler alive until a final response or a CANCEL.
func (p *Profile) startInbound(c *inboundCall, req *sip.Request) {
	s, ds := c.s, c.ds
	if !p.inboundOffer(c, req) {
		return
	}
	s.SetVar("sip_to_tag", tagOf(ds.InviteRequest.To().Params)) // our tag, as FreeSWITCH names it
	if code := p.inviteReplaces(req, &c.call, s); code != 0 {
		c.closeMedia()
		p.failedIn.Add(1)
		ds.Respond(code, statusText(code), nil)
		return
	}
	p.calls.Store(c.key, &c.call)
	if err := s.Start(); err != nil {
		p.calls.Delete(c.key)
		c.closeMedia()
		switch {
		case p.refuseInvite(err, ds.WriteResponse, req):
		case errors.Is(err, core.ErrHungUp): // a BYE or CANCEL won the race
			p.failedIn.Add(1)
			ds.Respond(487, "Request Terminated", nil)
		default:
			p.failedIn.Add(1)
			ds.Respond(500, "Server Internal Error", nil)
		}
		return
	}
	go p.watchCall(&c.call)
	// Keep the handler (and so the INVITE server transaction) alive until a final response is
	// out or the caller cancelled.
	select {
	case <-c.final:
	case <-ds.Context().Done():
		if !c.answered {
			if errors.Is(context.Cause(ds.Context()), sip.ErrTransactionCanceled) {
				setOutcome(s, core.Outcome{Disposition: "recv_cancel"})
				if rc, ok := reasonCause(headerValue(req, "Reason")); ok {
					s.SetVar("sip_reason", headerValue(req, "Reason"))
					_ = rc
				}
				s.Hangup(core.CauseOriginatorCancel)
			} else {
				s.Hangup(core.CauseNormalClearing)
			}
		}
	}
}

// inboundOffer answers the INVITE's SDP, or for an INVITE without one (late offer, RFC 3261
// 13.2.1) builds the offer our 200 carries and the ACK answers. On failure it has responded.
func (p *Profile) inboundOffer(c *inboundCall, req *sip.Request) bool {
	ds := c.ds
	if offer := req.Body(); len(offer) > 0 {
		if code, err := c.answerOffer(offer); err != nil {
			if p.refuseInvite(err, ds.WriteResponse, req) {
				return false
			}
			p.log.Debug("INVITE offer refused", "code", code, "err", err)
			p.failedIn.Add(1)
			ds.Respond(code, statusText(code), nil)
			return false
		}
		return true
	}
	if _, err := c.buildOffer(c.prefs(false)); err != nil {
		if p.refuseInvite(err, ds.WriteResponse, req) {
			return false
		}
		p.failedIn.Add(1)
		ds.Respond(488, statusText(488), nil)
		return false
	}
	c.lateOffer = true
	return true
}

// watchCall removes the call from the table when its session is destroyed.
func (p *Profile) watchCall(c *call) {
	<-c.s.Done()
	c.stopSessionTimer()
	p.calls.Delete(c.key)
}
