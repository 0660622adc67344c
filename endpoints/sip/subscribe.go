package sip

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Event packages goswitch notifies (RFC 3842, RFC 3856, RFC 4235), with the body type each
// NOTIFY carries; "refer" is REFER's implicit subscription (RFC 3515), which has no SUBSCRIBE.
var eventTypes = map[string]string{
	"message-summary": mwiContentType,
	"presence":        pidfContentType,
	"dialog":          dialogContentType,
}

// allowEvents is the Allow-Events header value (RFC 6665 8.2.2).
const allowEvents = "presence, dialog, message-summary, refer"

// maxSubscriptionExpires caps Expires as FreeSWITCH does (one year).
const maxSubscriptionExpires = 31536000

// onSubscribe accepts, refreshes and ends subscriptions (RFC 6665 4.2.1). Every SUBSCRIBE,
// refresh or not, is authenticated like an INVITE on a profile with auth-calls (FreeSWITCH's
// auth-subscriptions, default true): 407 with Proxy-Authenticate.
func (p *Profile) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if !p.paramBool("manage-presence", false) {
		// FreeSWITCH without manage-presence does not allow SUBSCRIBE at all.
		r := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		r.AppendHeader(sip.NewHeader("Allow", allowHeader))
		tx.Respond(r)
		return
	}
	evh := headerValue(req, "Event")
	pkg, params, _ := strings.Cut(evh, ";")
	pkg = strings.ToLower(strings.TrimSpace(pkg))
	ctype, known := eventTypes[pkg]
	if !known {
		r := sip.NewResponseFromRequest(req, 489, "Bad Event", nil)
		r.AppendHeader(sip.NewHeader("Allow-Events", allowEvents))
		tx.Respond(r)
		return
	}
	if acc := headerValue(req, "Accept"); acc != "" && !accepts(acc, ctype) {
		r := sip.NewResponseFromRequest(req, 406, "Not Acceptable", nil)
		r.AppendHeader(sip.NewHeader("Accept", ctype))
		tx.Respond(r)
		return
	}
	var user *xmlconf.User
	if p.paramBool("auth-subscriptions", true) {
		u, ok := p.authorizeRequest(req, tx)
		if !ok {
			return
		}
		user = u
	}
	expires := 3600
	if v := headerValue(req, "Expires"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Expires", nil))
			return
		}
		expires = n
	}
	expires = min(expires, maxSubscriptionExpires)
	if f, err := strconv.Atoi(p.cfg.Params["force-subscription-expires"]); err == nil && f > 0 && f < expires {
		expires = f
	}
	if tag := tagOf(req.To().Params); tag != "" {
		p.resubscribe(req, tx, pkg, tag, expires)
		return
	}
	ct := req.Contact()
	if ct == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Missing Contact", nil))
		return
	}
	from, to := req.From(), req.To()
	if code := p.subscribeAllowed(req, pkg, user); code != 0 {
		tx.Respond(sip.NewResponseFromRequest(req, code, statusText(code), nil))
		return
	}
	src := sourceAddr(req)
	subscriber := "ip:" + src.Addr().String()
	if user != nil {
		subscriber = "user:" + strings.ToLower(user.ID)
	}
	if p.ep.subs.full(subscriber) {
		r := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		r.AppendHeader(sip.NewHeader("Retry-After", "60"))
		tx.Respond(r)
		return
	}
	transport := transportName(req)
	s := &Subscription{
		Profile: p.cfg.Name, CallID: req.CallID().Value(), LocalTag: sip.GenerateTagN(12), RemoteTag: tagOf(from.Params),
		Event: pkg, EventID: eventID(params), User: from.Address.User, Host: from.Address.Host,
		ToUser: to.Address.User, ToHost: to.Address.Host, Contact: ct.Address.String(),
		RecordRoute: joinHeaders(req, "Record-Route"), NetworkIP: src.Addr().String(), NetworkPort: int(src.Port()),
		Transport: transport, NAT: behindNAT(ct.Address.Host, src, transport), UserAgent: headerValue(req, "User-Agent"),
		Accept: headerValue(req, "Accept"), Expires: time.Now().Add(time.Duration(expires) * time.Second), Created: time.Now(),
	}
	if user != nil {
		s.AuthUser = user.ID
	}
	p.acceptSubscribe(req, tx, s, expires)
	if expires == 0 {
		// A fetch (RFC 6665 4.4.3): one NOTIFY with the state, then the subscription is over.
		p.queueNotify(s, p.stateJob(s, "timeout"))
		return
	}
	p.ep.subs.put(s)
	p.subscribed(s)
}

// resubscribe refreshes (or, with Expires 0, ends) a subscription in its dialog.
func (p *Profile) resubscribe(req *sip.Request, tx sip.ServerTransaction, pkg, tag string, expires int) {
	s := p.ep.subs.get(req.CallID().Value(), tag)
	if s == nil || s.Event != pkg || s.Profile != p.cfg.Name || (s.RemoteTag != "" && s.RemoteTag != tagOf(req.From().Params)) {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	contact := ""
	if ct := req.Contact(); ct != nil {
		contact = ct.Address.String()
	}
	src := sourceAddr(req)
	s.refresh(contact, src.Addr().String(), int(src.Port()), time.Now().Add(time.Duration(expires)*time.Second))
	p.acceptSubscribe(req, tx, s, expires)
	if expires == 0 {
		p.ep.subs.remove(s)
		p.queueNotify(s, p.stateJob(s, "timeout"))
		return
	}
	p.ep.subs.save(s)
	// A refresh gets a NOTIFY with the current state too (RFC 6665 4.2.1.2).
	p.subscribed(s)
}

// acceptSubscribe answers 202 Accepted (200 with subscribe-respond-200-ok, as FreeSWITCH).
func (p *Profile) acceptSubscribe(req *sip.Request, tx sip.ServerTransaction, s *Subscription, expires int) {
	code, reason := 202, "Accepted"
	if p.paramBool("subscribe-respond-200-ok", false) {
		code, reason = 200, "OK"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil {
		// sipgo tags every response it builds; a new subscription's dialog takes that tag.
		if t := tagOf(to.Params); t != "" {
			s.LocalTag = t
		} else {
			to.Params.Add("tag", s.LocalTag)
		}
	}
	res.AppendHeader(p.localContact(s.ToUser, s.Transport))
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(sip.NewHeader("Allow-Events", allowEvents))
	tx.Respond(res)
}

// subscribeAllowed applies who may watch what: message-summary only for one's own mailbox (or
// the directory's mwi-account), presence and dialog within one's domain. 0 = allowed.
func (p *Profile) subscribeAllowed(req *sip.Request, pkg string, user *xmlconf.User) int {
	to := req.To().Address
	if to.User == "" {
		return 404
	}
	authenticates := p.cfg.AuthCalls || len(p.cfg.InboundACL) > 0
	if pkg == "message-summary" {
		if user == nil {
			if authenticates {
				// Trusted by an ACL without a user: a PBX peer, FreeSWITCH lets it through.
				return 0
			}
			if !strings.EqualFold(req.From().Address.User, to.User) {
				return 403
			}
			return 0
		}
		if strings.EqualFold(user.ID, to.User) {
			return 0
		}
		if acct := user.Param("mwi-account"); acct != "" {
			u, _, _ := strings.Cut(acct, "@")
			if strings.EqualFold(u, to.User) {
				return 0
			}
		}
		return 403
	}
	if user != nil && !strings.EqualFold(user.Domain, to.Host) && !p.ep.presenceHost(p.cfg.Name, to.Host) {
		return 403
	}
	return 0
}

// subscribed starts the initial NOTIFY of a new or refreshed subscription and fires
// FreeSWITCH's events: MESSAGE_QUERY for message-summary (the voicemail module answers with
// MESSAGE_WAITING for this subscription's Call-ID), PRESENCE_PROBE for presence and dialog.
func (p *Profile) subscribed(s *Subscription) {
	bus := p.ep.h.Bus
	if s.Event == "message-summary" {
		e := bus.New(event.MessageQuery, "")
		e.Add("Message-Account", "sip:"+s.ToUser+"@"+s.ToHost)
		e.Add("VM-Sofia-Profile", p.cfg.Name)
		e.Add("VM-sub-call-id", s.CallID)
		bus.Publish(e)
		return
	}
	p.queueNotify(s, p.stateJob(s, ""))
	e := bus.New(event.PresenceProbe, "")
	if s.Event == "dialog" {
		e.Add("probe-type", "dialog")
	}
	e.Add("proto", "sip")
	e.Add("login", p.cfg.Name)
	e.Add("sip_profile", p.cfg.Name)
	if s.Event == "presence" {
		e.Add("presence-source", "subscribe")
	}
	e.Add("from", s.User+"@"+s.Host)
	e.Add("to", s.ToUser+"@"+s.ToHost)
	e.Add("proto-specific-event-name", s.Event)
	e.Add("expires", strconv.Itoa(max(0, int(time.Until(s.expiry()).Round(time.Second)/time.Second))))
	e.Add("event_type", "presence")
	e.Add("alt_event_type", "dialog")
	e.Add("sub-call-id", s.CallID)
	bus.Publish(e)
}

// stateJob is a NOTIFY carrying the subscription's current state (final with reason).
func (p *Profile) stateJob(s *Subscription, terminated string) notifyJob {
	j := notifyJob{terminated: terminated}
	switch s.Event {
	case "presence", "dialog":
		j.build = func(s *Subscription, version int) (string, string) {
			return p.ep.presence.render(s, version)
		}
	}
	return j
}

func eventID(params string) string {
	for _, kv := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, "id") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// accepts reports whether an Accept value admits ctype.
func accepts(accept, ctype string) bool {
	for _, a := range strings.Split(accept, ",") {
		a, _, _ = strings.Cut(strings.TrimSpace(a), ";")
		if strings.EqualFold(a, ctype) || a == "*/*" || strings.EqualFold(a, "application/*") {
			return true
		}
	}
	return false
}

// joinHeaders joins every value of a header, in order.
func joinHeaders(req *sip.Request, name string) string {
	var vs []string
	for _, h := range req.GetHeaders(name) {
		vs = append(vs, h.Value())
	}
	return strings.Join(vs, ", ")
}
