package sip

import (
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// authorizeRequest applies the profile's call authentication to a request that is not an
// INVITE (SUBSCRIBE, MESSAGE, NOTIFY or INFO out of dialog): the inbound ACL first, then, on a
// profile with auth-calls, a digest challenge with 407 Proxy-Authenticate as for INVITE
// (FreeSWITCH challenges SUBSCRIBE and MESSAGE this way too: sofia_reg_handle_register with
// REG_INVITE). It answers the request itself when it refuses it (407, or 403 for wrong
// credentials or an ACL miss) and returns ok=false. user is the directory user the request
// authenticated as (nil on a profile that does not authenticate, or an ACL without a user).
func (p *Profile) authorizeRequest(req *sip.Request, tx sip.ServerTransaction) (user *xmlconf.User, ok bool) {
	src := sourceAddr(req)
	set := p.ep.ACL()
	dir := p.ep.h.Config().Directory()
	for _, l := range p.cfg.InboundACL {
		if r := set.CheckToken(l, src.Addr()); r.Allowed {
			if r.Token != "" && dir != nil {
				user = dir.User(r.Token, r.Domain)
			}
			return user, true
		}
	}
	if !p.cfg.AuthCalls {
		if len(p.cfg.InboundACL) > 0 {
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return nil, false
		}
		return nil, true
	}
	realm := p.realm(req)
	hdr := headerValue(req, "Proxy-Authorization")
	if hdr == "" {
		// Some phones answer a 407 on SUBSCRIBE with Authorization; FreeSWITCH takes either.
		hdr = headerValue(req, "Authorization")
	}
	var du *xmlconf.User
	var username string
	if hdr != "" && dir != nil {
		if name, err := parseCredUser(hdr); err == nil {
			username = name
			du = dir.User(name, realm)
			if du == nil {
				du = dir.User(name, req.From().Address.Host)
			}
		}
	}
	res, _ := verifyDigest(p.nonces, hdr, string(req.Method), du, realm, src.Addr())
	// The same lockout, failure counting and default-password rule as INVITE and REGISTER, so
	// SUBSCRIBE or MESSAGE is no way around them for a password guesser.
	reason := ""
	if (res == authOK || res == authFailed) && p.sec.UserLocked(username, src.Addr()) {
		res, reason = authFailed, "user-locked"
	}
	switch res {
	case authMissing, authStale:
		r := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
		r.AppendHeader(sip.NewHeader("Proxy-Authenticate", p.nonces.challenge(realm, res == authStale, src.Addr())))
		tx.Respond(r)
		return nil, false
	case authFailed:
		p.authFailure(src.Addr(), username, du, reason)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return nil, false
	}
	if p.weakCredentialRefused(du, username, realm, src, req.Method) {
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return nil, false
	}
	p.sec.Success(src.Addr(), username)
	return du, true
}

// authOutOfDialog runs authorizeRequest for requests without a To tag (out of dialog) and
// passes the ones it accepts, and every in-dialog request, to h. skip names the profile
// parameter that turns the check off for this method (FreeSWITCH's auth-messages for MESSAGE;
// "" = always checked).
func (p *Profile) authOutOfDialog(skip string, h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if tagOf(req.To().Params) == "" && (skip == "" || p.paramBool(skip, true)) {
			if _, ok := p.authorizeRequest(req, tx); !ok {
				return
			}
		}
		h(req, tx)
	}
}

// paramBool reads a boolean profile parameter as written in the profile, def when absent.
func (p *Profile) paramBool(name string, def bool) bool {
	v, ok := p.cfg.Params[name]
	if !ok || v == "" {
		return def
	}
	return boolParam(v)
}

// onMessage delivers an authorised out-of-dialog MESSAGE (RFC 3428) to the registered
// contacts of its recipient on this profile, as FreeSWITCH's chat does for a local user:
// 202 Accepted when it went out; 480 when the user is not registered here or does not exist
// (one answer for both, so MESSAGE tells nobody which users exist). In a dialog: 501.
func (p *Profile) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To().Address
	if tagOf(req.To().Params) != "" || to.User == "" {
		tx.Respond(sip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() <= 1 {
		tx.Respond(sip.NewResponseFromRequest(req, 483, "Too Many Hops", nil))
		return
	}
	var regs []*Registration
	for _, r := range p.ep.regs.lookup(to.User, to.Host) {
		if r.Profile == p.cfg.Name {
			regs = append(regs, r)
		}
	}
	if len(regs) == 0 {
		// The same answer for an unknown user and one not registered here: a MESSAGE must not
		// tell a stranger which users exist.
		tx.Respond(sip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil))
		return
	}
	from := req.From().Address
	ctype := "text/plain"
	if h := req.ContentType(); h != nil {
		ctype = h.Value()
	}
	for _, r := range regs {
		p.sendMessage(r, from.User, from.Host, req.From().DisplayName, ctype, req.Body())
	}
	tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
}

// onNotify accepts NOTIFYs: in the dialog of a call (REFER progress from a transferee) and
// authorised unsolicited ones (FreeSWITCH answers 200 and, with
// forward-unsolicited-mwi-notify, relays them; goswitch drops them). A To tag of no call gets
// 481, so a made-up tag does not get around the challenge.
func (p *Profile) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	if tagOf(req.To().Params) != "" && p.findCall(req) == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}
