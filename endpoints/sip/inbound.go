package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
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
	c := &call{p: p, inbound: true, ds: ds, final: make(chan struct{}), answeredC: make(chan struct{}), sessExpires: sessExp}
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
	if code := p.inviteReplaces(req, c, s); code != 0 {
		c.closeMedia()
		p.failedIn.Add(1)
		ds.Respond(code, statusText(code), nil)
		return
	}
	p.calls.Store(c.key, c)
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
	go p.watchCall(c)
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

func parseCredUser(hdr string) (string, error) {
	i := strings.Index(strings.ToLower(hdr), "username=")
	if i < 0 {
		return "", errors.New("no username")
	}
	v := hdr[i+len("username="):]
	if strings.HasPrefix(v, "\"") {
		v = v[1:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j], nil
		}
		return "", errors.New("bad username")
	}
	if j := strings.IndexAny(v, ", "); j >= 0 {
		v = v[:j]
	}
	return v, nil
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

// inboundVars are the sip_* channel variables of an inbound call, in FreeSWITCH's order.
func (p *Profile) inboundVars(req *sip.Request, src interface{ String() string }, u *xmlconf.User, authUser, realm, aclBy string) [][2]string {
	from, to, via := req.From(), req.To(), req.Via()
	ap := sourceAddr(req)
	v := [][2]string{
		{"direction", "inbound"},
		{"sofia_profile_name", p.cfg.Name},
		{"sip_profile_name", p.cfg.Name},
		{"sip_local_network_addr", p.extSIPIP.String()},
		{"sip_network_ip", ap.Addr().String()},
		{"sip_network_port", strconv.Itoa(int(ap.Port()))},
		{"sip_received_ip", ap.Addr().String()},
		{"sip_received_port", strconv.Itoa(int(ap.Port()))},
		{"sip_via_protocol", strings.ToLower(req.Transport())},
		{"sip_from_user", from.Address.User},
		{"sip_from_uri", from.Address.User + "@" + from.Address.Host},
		{"sip_from_host", from.Address.Host},
		{"sip_from_display", from.DisplayName},
		{"sip_from_tag", tagOf(from.Params)},
		{"sip_to_user", to.Address.User},
		{"sip_to_uri", to.Address.User + "@" + to.Address.Host},
		{"sip_to_host", to.Address.Host},
		{"sip_req_user", req.Recipient.User},
		{"sip_req_uri", req.Recipient.User + "@" + req.Recipient.HostPort()},
		{"sip_req_host", req.Recipient.Host},
		{"sip_call_id", req.CallID().Value()},
		{"sip_user_agent", headerValue(req, "User-Agent")},
		{"sip_via_host", via.Host},
		{"sip_via_port", strconv.Itoa(via.Port)},
	}
	if p.paramBool("manage-presence", false) {
		// sofia.c: with presence managed, a call's presence_id defaults to its From (a directory
		// presence_id variable, applied after these, wins).
		v = append(v, [2]string{"presence_id", from.Address.User + "@" + from.Address.Host})
	}
	if mf := req.MaxForwards(); mf != nil {
		v = append(v, [2]string{"max_forwards", strconv.Itoa(int(mf.Val()))})
	}
	if ct := req.Contact(); ct != nil {
		v = append(v, [2]string{"sip_contact_user", ct.Address.User}, [2]string{"sip_contact_host", ct.Address.Host},
			[2]string{"sip_contact_uri", ct.Address.User + "@" + ct.Address.HostPort()})
		if ct.Address.Port != 0 {
			v = append(v, [2]string{"sip_contact_port", strconv.Itoa(ct.Address.Port)})
		}
	}
	if h := headerValue(req, "P-Asserted-Identity"); h != "" {
		v = append(v, [2]string{"sip_P-Asserted-Identity", h})
	}
	if h := headerValue(req, "Remote-Party-ID"); h != "" {
		v = append(v, [2]string{"sip_Remote-Party-ID", h})
	}
	if u != nil || aclBy != "" {
		v = append(v, [2]string{"sip_authorized", "true"})
	}
	if aclBy != "" {
		v = append(v, [2]string{"sip_acl_authed_by", aclBy})
		if u != nil {
			v = append(v, [2]string{"sip_acl_token", u.ID + "@" + u.Domain})
		}
	}
	if authUser != "" {
		v = append(v, [2]string{"sip_auth_username", authUser}, [2]string{"sip_auth_realm", realm},
			[2]string{"user_name", authUser}, [2]string{"domain_name", realm})
	}
	for _, h := range req.Headers() {
		n := h.Name()
		if len(n) > 2 && (n[0] == 'X' || n[0] == 'x') && n[1] == '-' {
			v = append(v, [2]string{"sip_h_" + n, h.Value()})
		}
	}
	return v
}

func statusText(code int) string {
	switch code {
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 480:
		return "Temporarily Unavailable"
	case 484:
		return "Address Incomplete"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 603:
		return "Decline"
	}
	return "Unknown"
}

// Progress implements core.Leg for inbound calls (180, or 183 with SDP).
func (c *call) Progress(ctx context.Context, withMedia bool) error {
	if !c.inbound {
		return nil
	}
	// Progress, Answer, respond and Hangup all run on the session goroutine (core's Leg
	// contract; originate hands B-legs' 180/183 to it), so a provisional never races the final.
	c.mu.Lock()
	if c.finalSent {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if withMedia && c.port != nil {
		if err := c.renegotiate(); err != nil {
			c.s.Log().Warn("early media: codec/SRTP settings not acceptable for the offer", "err", err)
			setOutcome(c.s, core.Outcome{Proto: sipProto(488)})
			c.s.Hangup(core.CauseIncompatibleDestination)
			return err
		}
		c.mu.Lock()
		body := c.localSDP
		c.early, c.sdpSent = true, true
		c.mu.Unlock()
		res := sip.NewResponseFromRequest(c.ds.InviteRequest, 183, "Session Progress", body)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		c.armWebRTC()
		return c.writeProvisional(res) // reliably with 100rel (prack.go)
	}
	return c.writeProvisional(sip.NewResponseFromRequest(c.ds.InviteRequest, 180, "Ringing", nil))
}

// Answer implements core.Leg: 200 OK with our SDP; returns once the ACK arrived.
func (c *call) Answer(ctx context.Context) error {
	if !c.inbound {
		return nil
	}
	if err := c.renegotiate(); err != nil {
		// The dialplan's codec or SRTP settings rule out the offer: 488, as FreeSWITCH does.
		c.s.Log().Warn("answer: codec/SRTP settings not acceptable for the offer", "err", err)
		setOutcome(c.s, core.Outcome{Proto: sipProto(488)})
		c.s.Hangup(core.CauseIncompatibleDestination)
		return err
	}
	c.mu.Lock()
	if c.finalSent {
		c.mu.Unlock()
		return core.ErrHungUp
	}
	c.finalSent = true
	c.answered = true
	var body []byte
	if c.port != nil {
		body = c.localSDP
		c.sdpSent = true
	}
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(c.ds.InviteRequest, 200, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		c.armWebRTC()
	}
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	if sup := c.p.supportedHeader(); sup != "" {
		res.AppendHeader(sip.NewHeader("Supported", sup))
	}
	refresh := c.sessionTimerAnswer(res) // sessiontimer.go
	c.beforeFinal(true)                  // waits for the PRACK of a reliable 18x (prack.go)
	close(c.answeredC)
	if c.port != nil {
		c.port.SetDTMFGate(c.s.HasDTMFHook, c.s.DeliverDTMF)
	}
	// The INVITE handler (and so the server transaction) lives until markFinal: only after the
	// 2xx went out and was ACKed.
	err := c.ds.WriteResponse(res)
	c.markFinal()
	if err != nil && c.ended.Load() {
		return nil // the caller hung up (BYE) before its ACK reached us
	}
	if err != nil {
		c.s.Log().Warn("answer not acknowledged", "err", err)
		setOutcome(c.s, core.Outcome{Disposition: "send_bye"})
		c.s.Hangup(core.CauseRecoveryOnTimerExpire)
		return err
	}
	c.startSessionTimer(refresh)
	return nil
}

// Hangup implements core.Leg: a final response before answer, BYE after, CANCEL for an
// unanswered outbound leg.
func (c *call) Hangup(ctx context.Context, cause core.Cause) error {
	if c.ended.Swap(true) {
		return nil
	}
	defer c.stopSessionTimer()
	if !c.inbound {
		return c.hangupOutbound(ctx, cause)
	}
	s := c.s
	c.mu.Lock()
	answered, final := c.answered, c.finalSent
	c.finalSent = true
	c.mu.Unlock()
	if !answered {
		if final {
			return nil
		}
		code := cause.SIPStatus()
		if v := s.Var("last_bridge_proto_specific_hangup_cause"); strings.HasPrefix(v, "sip:") && !core.True(s.Var("sip_ignore_remote_cause")) {
			if n, err := strconv.Atoi(v[4:]); err == nil && n >= 300 && n < 700 {
				code = n
			}
		}
		var out core.Outcome
		if held := s.Outcome(); held.Proto == "" || held.Disposition == "" {
			if held.Proto == "" {
				out.Proto = sipProto(code)
			}
			if held.Disposition == "" {
				out.Disposition = "send_refuse"
			}
			setOutcome(s, out)
		}
		var hdrs []sip.Header
		if !core.True(s.Var("disable_q850_reason")) {
			hdrs = append(hdrs, reasonHeader(cause))
		}
		select {
		case <-c.ds.Context().Done():
			c.markFinal()
			return nil // cancelled: the transaction already answered 487
		default:
		}
		c.sendFinal(code, statusText(code), hdrs)
		return nil
	}
	if s.Outcome().Disposition != "" {
		return nil // the far end sent BYE
	}
	setOutcome(s, core.Outcome{Disposition: "send_bye"})
	bye := sip.NewRequest(sip.BYE, c.ds.InviteRequest.Contact().Address)
	bye.SetTransport(c.ds.InviteRequest.Transport())
	if !core.True(s.Var("disable_q850_reason")) {
		bye.AppendHeader(reasonHeader(cause))
	}
	return c.ds.WriteBye(ctx, bye)
}

var _ core.Leg = (*call)(nil)

// gatewayFor returns the gateway whose proxy (address and port) sent the request, if any.
func (p *Profile) gatewayFor(src netip.AddrPort) *Gateway {
	p.ep.mu.RLock()
	gws := p.gateways
	p.ep.mu.RUnlock()
	for _, g := range gws {
		ap, err := netip.ParseAddrPort(g.proxyAddr(g.cfg.Proxy))
		if err == nil && ap.Addr().Unmap() == src.Addr() && ap.Port() == src.Port() {
			return g
		}
	}
	return nil
}
