package sip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// notifyJob is one NOTIFY to send in a subscription's dialog.
type notifyJob struct {
	ctype string
	body  string
	// build, when set, renders the body at send time (dialog-info needs the version of the
	// NOTIFY that carries it).
	build func(s *Subscription, version int) (ctype, body string)
	// terminated is the reason of a final NOTIFY (Subscription-State: terminated;reason=...).
	terminated string
}

// maxNotifyQueue bounds the NOTIFYs waiting per subscription; the oldest give way, since each
// NOTIFY carries the full state (RFC 3842, RFC 3863, RFC 4235 full documents).
const maxNotifyQueue = 16

// queueNotify sends j in s's dialog after the NOTIFYs queued before it (one at a time, so
// CSeq and dialog-info versions reach the subscriber in order). A final NOTIFY closes the
// queue.
func (p *Profile) queueNotify(s *Subscription, j notifyJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return
	}
	if j.terminated != "" {
		s.gone = true
	}
	if len(s.queue) >= maxNotifyQueue {
		s.queue = s.queue[1:]
		p.dropped.Add(1)
	}
	s.queue = append(s.queue, j)
	if s.sending {
		return
	}
	s.sending = true
	ss := p.ep.subs
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.sending = false
				s.mu.Unlock()
				return
			}
			j := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			p.sendNotify(s, j)
		}
	}()
}

// sendNotify sends one NOTIFY in s's dialog and waits for its answer. A 481 (or any final
// failure but a timeout) ends the subscription, as RFC 6665 4.2.2 asks.
func (p *Profile) sendNotify(s *Subscription, j notifyJob) {
	s.mu.Lock()
	s.cseq++
	s.version++
	seq, version := s.cseq, s.version-1
	s.notified = true
	contact, ip, port, expires := s.Contact, s.NetworkIP, s.NetworkPort, s.Expires
	s.mu.Unlock()
	ctype, body := j.ctype, j.body
	if j.build != nil {
		ctype, body = j.build(s, version)
	}
	var ru sip.Uri
	if err := sip.ParseUri(contact, &ru); err != nil {
		p.ep.subs.remove(s)
		return
	}
	req := sip.NewRequest(sip.NOTIFY, ru)
	for _, r := range splitContacts(s.RecordRoute) {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: s.ToUser, Host: s.ToHost}, Params: sip.NewParams()}
	from.Params.Add("tag", s.LocalTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: s.User, Host: s.Host}, Params: sip.NewParams()}
	if s.RemoteTag != "" {
		to.Params.Add("tag", s.RemoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(s.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.NOTIFY})
	req.AppendHeader(p.localContact(s.ToUser, s.Transport))
	ev := s.Event
	if s.EventID != "" {
		ev += ";id=" + s.EventID
	}
	req.AppendHeader(sip.NewHeader("Event", ev))
	if j.terminated != "" {
		req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason="+j.terminated))
	} else {
		left := int(time.Until(expires).Round(time.Second) / time.Second)
		req.AppendHeader(sip.NewHeader("Subscription-State", "active;expires="+strconv.Itoa(max(left, 1))))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	if body != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
		req.SetBody([]byte(body))
	}
	// Back to where the SUBSCRIBE came from, never to a host its Contact or Record-Route names:
	// those are the subscriber's words, and obeying them would make goswitch a NOTIFY reflector.
	p.route(req, s.Transport, true, ip, port)
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		p.log.Debug("NOTIFY failed", "event", s.Event, "to", contact, "err", err)
		return
	}
	if res.StatusCode == 481 || (res.StatusCode >= 400 && res.StatusCode != 408 && res.StatusCode != 503 && res.StatusCode != 401 && res.StatusCode != 407) {
		p.log.Debug("NOTIFY refused, subscription ended", "event", s.Event, "to", contact, "status", res.StatusCode)
		p.ep.subs.remove(s)
		s.mu.Lock()
		s.gone, s.queue = true, nil
		s.mu.Unlock()
		return
	}
	if j.terminated == "" {
		p.ep.subs.save(s)
	}
}

// localContact is our Contact for a NOTIFY as user (FreeSWITCH puts the resource's user in
// the profile URL).
func (p *Profile) localContact(user, transport string) *sip.ContactHeader {
	c := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: p.extSIPIP.String(), Port: p.port}}
	if t := strings.ToLower(transport); t == "tcp" {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", "tcp")
	} else if t == "tls" {
		c.Address.Port = p.tlsPort
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", "tls")
	} else if ap := p.wsListenerFor(t); ap.IsValid() {
		c.Address.Port = int(ap.Port())
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", t)
	}
	return c
}

// route sends req over the transport the peer used: to its source address behind NAT or over
// TCP/TLS (the connection it opened), otherwise to the request URI, from the profile's UDP
// socket.
func (p *Profile) route(req *sip.Request, transport string, nat bool, ip string, port int) {
	t := strings.ToLower(transport)
	if t == "" {
		t = "udp"
	}
	req.SetTransport(t)
	if (nat || t != "udp") && ip != "" && port > 0 {
		req.SetDestination(net.JoinHostPort(ip, strconv.Itoa(port)))
	}
	if t == "udp" {
		req.Laddr = sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port}
	}
}

// behindNAT is the registrar's rule: a contact address other than the source address means
// NAT (UDP only).
func behindNAT(contactHost string, src netip.AddrPort, transport string) bool {
	if transport != "UDP" {
		return false
	}
	a, err := netip.ParseAddr(contactHost)
	return err != nil || a.Unmap() != src.Addr()
}

// sendUnsolicited sends an out-of-dialog NOTIFY (FreeSWITCH's sofia_glue_send_notify:
// Subscription-State terminated;reason=noresource) to a registered contact.
func (p *Profile) sendUnsolicited(reg *Registration, event, ctype, body, callID string) {
	var ru sip.Uri
	if err := sip.ParseUri(reg.ContactURI, &ru); err != nil {
		return
	}
	ru.UriParams = nil
	req := sip.NewRequest(sip.NOTIFY, ru)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: reg.User, Host: reg.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: reg.User, Host: reg.Host}, Params: sip.NewParams()})
	if callID != "" {
		cid := sip.CallIDHeader(callID)
		req.AppendHeader(&cid)
	}
	req.AppendHeader(p.localContact(reg.User, reg.Transport))
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody([]byte(body))
	p.route(req, reg.Transport, reg.NAT, reg.NetworkIP, reg.NetworkPort)
	p.routePath(req, reg.Path)
	ss := p.ep.subs
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		if _, err := p.cli.Do(ctx, req); err != nil {
			p.log.Debug("unsolicited NOTIFY failed", "to", reg.ContactURI, "err", err)
		}
	}()
}

// sendMessage relays a MESSAGE body to a registered contact, from fromUser@fromHost.
func (p *Profile) sendMessage(reg *Registration, fromUser, fromHost, display, ctype string, body []byte) {
	var ru sip.Uri
	if err := sip.ParseUri(reg.ContactURI, &ru); err != nil {
		return
	}
	ru.UriParams = nil
	req := sip.NewRequest(sip.MESSAGE, ru)
	from := &sip.FromHeader{DisplayName: display, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: reg.User, Host: reg.Host}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	p.route(req, reg.Transport, reg.NAT, reg.NetworkIP, reg.NetworkPort)
	ss := p.ep.subs
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		if _, err := p.cli.Do(ctx, req); err != nil {
			p.log.Debug("MESSAGE relay failed", "to", reg.ContactURI, "err", err)
		}
	}()
}

// routePath sends req through the proxies of a registration's Path (RFC 3327), as a call to
// the user is: the proxy (Kamailio in front of a cluster) knows the phone's flow.
func (p *Profile) routePath(req *sip.Request, path string) {
	routes := splitPath(path)
	for _, r := range routes {
		if validHeaderValue(r) {
			req.AppendHeader(sip.NewHeader("Route", r))
		}
	}
	if r := req.Route(); r != nil && len(routes) > 0 {
		req.SetDestination(r.Address.HostPort())
	}
}
