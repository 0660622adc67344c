package sip

import (
	"strings"

	"github.com/goswitch/goswitch/core/event"
)

// mwiContentType is the message-summary body type (RFC 3842).
const mwiContentType = "application/simple-message-summary"

// mwiBody renders a MESSAGE_WAITING event as a message-summary body the way mod_sofia does:
// every MWI-* header without its prefix, in order (Messages-Waiting, Message-Account,
// Voice-Message, ...), the account as a sip: URI, CRLF line ends and a blank line.
func mwiBody(ev *event.Event) string {
	var b strings.Builder
	for _, h := range ev.Headers {
		if len(h.Name) <= 4 || !strings.EqualFold(h.Name[:4], "mwi-") {
			continue
		}
		v := h.Value
		if strings.EqualFold(h.Name, "mwi-message-account") && !strings.HasPrefix(strings.ToLower(v), "sip:") {
			v = "sip:" + v
		}
		b.WriteString(h.Name[4:] + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// noMessagesBody is the initial NOTIFY of a message-summary subscription when nothing answers
// the MESSAGE_QUERY (no voicemail module, or no mailbox): RFC 6665 wants a NOTIFY at once.
func noMessagesBody(s *Subscription) string {
	return "Messages-Waiting: no\r\nMessage-Account: sip:" + s.ToUser + "@" + s.ToHost + "\r\n\r\n"
}

// messageWaiting sends a MESSAGE_WAITING event as NOTIFYs, with mod_sofia's targeting:
// sub-call-id → that subscription (the answer to its MESSAGE_QUERY), call-id → that
// registration (unsolicited MWI after REGISTER), neither → every message-summary subscriber
// of the account and, unsolicited, every registered contact whose MWI account it is.
func (e *Endpoint) messageWaiting(ev *event.Event) {
	acct := strings.TrimPrefix(ev.Get("MWI-Message-Account"), "sip:")
	user, host, ok := strings.Cut(acct, "@")
	if !ok || ev.Get("MWI-Messages-Waiting") == "" {
		return
	}
	body := mwiBody(ev)
	subCallID, callID := ev.Get("sub-call-id"), ev.Get("call-id")
	var subs []*Subscription
	switch {
	case subCallID != "":
		for _, s := range e.subs.byCallID(subCallID) {
			if s.Event == "message-summary" {
				subs = append(subs, s)
			}
		}
	case callID == "":
		subs = e.subs.match("message-summary", user, host)
	}
	for _, s := range subs {
		if p, ok := e.Profile(s.Profile); ok {
			p.queueNotify(s, notifyJob{ctype: mwiContentType, body: body})
		}
	}
	if subCallID != "" {
		return
	}
	for _, reg := range e.regs.all("") {
		if callID != "" && reg.CallID != callID {
			continue
		}
		if callID == "" && !strings.EqualFold(e.mwiAccount(reg), user+"@"+host) || e.heldElsewhere(reg) {
			continue
		}
		p, ok := e.Profile(reg.Profile)
		if !ok || e.messageQueryMode(p, reg.User, reg.Host) == "" {
			continue
		}
		cid := ""
		if p.paramBool("mwi-use-reg-callid", false) {
			cid = reg.CallID
		}
		p.sendUnsolicited(reg, "message-summary", mwiContentType, body, cid)
	}
}

// mwiAccount is the mailbox a registration shows: the directory user's mwi-account param,
// else the registered user (FreeSWITCH's mwi_user@mwi_host).
func (e *Endpoint) mwiAccount(reg *Registration) string {
	if dir := e.h.Config().Directory(); dir != nil {
		if u := dir.User(reg.User, reg.Host); u != nil {
			if a := u.Param("mwi-account"); a != "" {
				if !strings.Contains(a, "@") {
					a += "@" + reg.Host
				}
				return a
			}
		}
	}
	return reg.User + "@" + reg.Host
}

// messageQueryMode is send-message-query-on-register for user@host on p: "true" (every
// REGISTER), "first-only" (a new binding) or "" (never); the directory user's param of that
// name overrides the profile's. It also decides whether the user's registered contacts get
// unsolicited MWI NOTIFYs at all. FreeSWITCH defaults to first-only; goswitch sends
// unsolicited NOTIFYs only where the profile or user asks, since phones that want MWI
// subscribe, and user agents that do not expect an unsolicited NOTIFY fail on it.
func (e *Endpoint) messageQueryMode(p *Profile, user, host string) string {
	mode := p.cfg.Params["send-message-query-on-register"]
	if dir := e.h.Config().Directory(); dir != nil {
		if u := dir.User(user, host); u != nil {
			if v := u.Param("send-message-query-on-register"); v != "" {
				mode = v
			}
		}
	}
	switch {
	case boolParam(mode):
		return "true"
	case strings.EqualFold(mode, "first-only"):
		return "first-only"
	}
	return ""
}

// registrationEvent reacts to sofia::register/unregister/expire: presence watchers see the
// account come and go, and a new registration asks voicemail for its counts (MESSAGE_QUERY
// with VM-Call-ID, answered as unsolicited MWI to that registration) per messageQueryMode.
func (e *Endpoint) registrationEvent(ev *event.Event) {
	user, host := ev.Get("from-user"), ev.Get("from-host")
	if ev.Get("update-reg") != "true" {
		// Registered or gone: presence watchers see open/closed change (a refresh changes
		// nothing they see).
		e.presence.notify(user, host, e.presence.snapshot(user, host), "presence")
	}
	if ev.Subclass != "sofia::register" {
		return
	}
	p, ok := e.Profile(ev.Get("profile-name"))
	if !ok {
		return
	}
	switch e.messageQueryMode(p, user, host) {
	case "true":
	case "first-only":
		if ev.Get("update-reg") == "true" {
			return
		}
	default:
		return
	}
	q := e.h.Bus.New(event.MessageQuery, "")
	q.Add("Message-Account", "sip:"+e.mwiAccount(&Registration{User: user, Host: host}))
	q.Add("VM-Sofia-Profile", p.cfg.Name)
	q.Add("VM-Call-ID", ev.Get("call-id"))
	e.h.Bus.Publish(q)
}
