package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// supportedExt are the option tags we implement (Require of anything else gets 420).
var supportedExt = map[string]bool{"timer": true, "replaces": true}

func callKey(callID, localTag string) string { return callID + "|" + localTag }

func tagOf(params sip.HeaderParams) string {
	t, _ := params.Get("tag")
	return t
}

// onInvite handles initial INVITEs (and re-INVITEs, by To-tag).
func (p *Profile) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tagOf(req.To().Params) != "" {
		p.onReInvite(req, tx)
		return
	}
	if req.Contact() == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Missing Contact", nil))
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		tx.Respond(sip.NewResponseFromRequest(req, 483, "Too Many Hops", nil))
		return
	}
	if bad := p.unsupportedRequire(req); bad != "" {
		r := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		r.AppendHeader(sip.NewHeader("Unsupported", bad))
		tx.Respond(r)
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
	from, to := req.From(), req.To()
	domain := from.Address.Host
	var authUser *xmlconf.User
	authedBy := ""
	set := p.ep.ACL()
	aclOK := false
	for _, l := range p.cfg.InboundACL {
		r := set.CheckToken(l, src.Addr())
		if r.Allowed {
			aclOK = true
			authedBy = l
			if r.Token != "" {
				authUser = p.ep.h.Config().Directory().User(r.Token, r.Domain)
			}
			break
		}
	}
	authUsername := ""
	realm := ""
	if !aclOK && (p.cfg.AuthCalls || len(p.cfg.InboundACL) > 0) {
		if !p.cfg.AuthCalls {
			p.failedIn.Add(1)
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		realm = p.realm(req)
		hdr := headerValue(req, "Proxy-Authorization")
		var du *xmlconf.User
		var username string
		if hdr != "" {
			if cr, err := parseCredUser(hdr); err == nil {
				username = cr
				du = p.ep.h.Config().Directory().User(cr, realm)
				if du == nil {
					du = p.ep.h.Config().Directory().User(cr, domain)
				}
			}
		}
		res, _ := verifyDigest(p.nonces, hdr, "INVITE", du, realm, src.Addr())
		reason := ""
		if (res == authOK || res == authFailed) && p.sec.UserLocked(username, src.Addr()) {
			res, reason = authFailed, "user-locked" // the answer a wrong password gets
		}
		switch res {
		case authMissing, authStale:
			r := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			r.AppendHeader(sip.NewHeader("Proxy-Authenticate", p.nonces.challenge(realm, res == authStale, src.Addr())))
			p.challenged.remember(req, r)
			tx.Respond(r)
			return
		case authFailed:
			p.authFailure(src.Addr(), username, du, reason)
			p.failedIn.Add(1)
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		if p.weakCredentialRefused(du, username, realm, src, sip.INVITE) {
			p.failedIn.Add(1)
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		p.sec.Success(src.Addr(), username)
		authUser, authUsername = du, username
	}

	offer := req.Body() // empty: late offer
	// Session timers (RFC 4028): refuse intervals below our Min-SE.
	var sessExp time.Duration
	if v := headerValue(req, "Session-Expires"); v != "" && p.timerEnabled() {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		if n > 0 && time.Duration(n)*time.Second < p.cfg.MinSE && p.cfg.MinSE > 0 {
			r := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
			r.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(p.cfg.MinSE.Seconds()))))
			tx.Respond(r)
			return
		}
		sessExp = time.Duration(n) * time.Second
	} else if p.cfg.SessionTimeout > 0 && p.timerEnabled() {
		sessExp = p.cfg.SessionTimeout
	}

	ds, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	if authUsername != "" {
		p.useChallengeTag(ds, req)
	}
	c := newInboundCall(p, ds)
	c.sessExpires = sessExp
	c.remoteCSeq = req.CSeq().SeqNo
	c.key = callKey(req.CallID().Value(), tagOf(ds.InviteRequest.To().Params))
	c.auth.authed = aclOK || authUser != nil

	// Caller profile and variables.
	cidName, cidNum := from.DisplayName, from.Address.User
	if cidName == "" {
		cidName = from.Address.User
	}
	// An asserted identity (P-Asserted-Identity, else Remote-Party-ID) is the caller id, as
	// FreeSWITCH takes it.
	for _, hn := range []string{"P-Asserted-Identity", "Remote-Party-ID"} {
		v := headerValue(req, hn)
		if v == "" {
			continue
		}
		var u sip.Uri
		hp := sip.NewParams()
		if dn, err := sip.ParseAddressValue(v, &u, &hp); err == nil && u.User != "" {
			cidNum = u.User
			cidName = dn
			if cidName == "" {
				cidName = u.User
			}
			break
		}
	}
	ctxName := p.cfg.Context
	vars := p.inboundVars(req, src, authUser, authUsername, realm, authedBy)
	if g := p.gatewayFor(src); g != nil {
		// A call from one of our gateways lands in the gateway's context.
		g.callsIn.Add(1)
		vars = append(vars, [2]string{"sip_gateway_name", g.cfg.Name})
		vars = append(vars, g.cfg.Vars...)
		if g.cfg.Context != "" {
			ctxName = g.cfg.Context
		}
	}
	if authUser != nil {
		for _, kv := range authUser.Vars {
			vars = append(vars, [2]string{kv.Name, kv.Value})
		}
		if uc := authUser.Var("user_context"); uc != "" {
			ctxName = uc
		}
	}
	if ctxName == "_domain_" {
		ctxName = domain
	}
	c.auth.context = ctxName
	name := fmt.Sprintf("sofia/%s/%s@%s", p.cfg.Name, from.Address.User, from.Address.Host)
	prof := &core.CallerProfile{
		Username: authUsername, Dialplan: p.cfg.Dialplan, CallerIDName: cidName, CallerIDNumber: cidNum,
		NetworkAddr: src.Addr().String(), ANI: from.Address.User, DestNumber: req.Recipient.User,
		Source: "mod_sofia", Context: ctxName, ChanName: name,
	}
	prof.OrigCallerIDName, prof.OrigCallerIDNum = prof.CallerIDName, prof.CallerIDNumber
	_ = to
	s := core.NewSession(p.ep.h, core.SessionOptions{Direction: core.Inbound, Name: name, Profile: prof, Vars: vars, Leg: c})
	c.s = s
	if len(offer) > 0 {
		if code, err := c.answerOffer(offer); err != nil {
			if p.refuseInvite(err, ds.WriteResponse, req) {
				return
			}
			p.log.Debug("INVITE offer refused", "code", code, "err", err)
			p.failedIn.Add(1)
			ds.Respond(code, statusText(code), nil)
			return
		}
	} else {
		// Late offer (RFC 3261 13.2.1): we offer in the 200 and the ACK carries the answer.
		if _, err := c.buildOffer(c.prefs(false)); err != nil {
			if p.refuseInvite(err, ds.WriteResponse, req) {
				return
			}
			p.failedIn.Add(1)
			ds.Respond(488, statusText(488), nil)
			return
		}
		c.lateOffer = true
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

// watchCall removes the call from the table when its session is destroyed.
func (p *Profile) watchCall(c *call) {
	<-c.s.Done()
	c.stopSessionTimer()
	p.calls.Delete(c.key)
}

func unsupportedRequire(req *sip.Request) string {
	var bad []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			t = strings.TrimSpace(strings.ToLower(t))
			if t != "" && !supportedExt[t] {
				bad = append(bad, t)
			}
		}
	}
	return strings.Join(bad, ", ")
}
