package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core"
)

// outboundAuth are credentials to answer a 401/407 with.
type outboundAuth struct{ user, pass string }

// originate sends the INVITE of an outbound leg and returns at once; a goroutine owned by the
// call waits for the answer and reports to s.
func (p *Profile) originate(ctx context.Context, s *core.Session, target string, gw *Gateway) (core.Leg, error) {
	u, err := parseTarget(target)
	if err != nil {
		return nil, &core.CallError{Cause: core.CauseInvalidURL, Reason: err.Error()}
	}
	pathRoute := takeFSPath(&u) // cluster: a registration's Path becomes the Route set
	transport := "udp"
	if t, ok := u.UriParams.Get("transport"); ok && t != "" {
		transport = strings.ToLower(t)
	}
	if gw != nil && gw.cfg.Transport != "" && !u.UriParams.Has("transport") {
		transport = gw.cfg.Transport
	}
	switch transport {
	case "udp", "tcp", "tls":
	case "ws", "wss": // a WebSocket phone, through the connection it registered over (ws.go)
	default:
		return nil, &core.CallError{Cause: core.CauseInvalidURL, Reason: "transport " + transport}
	}
	// Internal routing params of sofia_contact never go on the wire.
	u.UriParams.Remove("fs_nat")
	u.UriParams.Remove("fs_path")
	vars := s.Vars()
	// Max-Forwards: one less than the A-leg's (a loop dies with 483).
	maxFwd := 70
	if a := s.Originator(); a != nil {
		if v := a.Var("max_forwards"); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				maxFwd = n - 1
			}
		}
	}
	if v := vars.Value("max_forwards"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			maxFwd = n
		}
	}
	if maxFwd <= 0 {
		return nil, &core.CallError{Cause: core.CauseExchangeRoutingError, SIP: 483, Reason: "Max-Forwards exhausted"}
	}
	hdrs, herr := customHeaders(vars.List())
	if herr != nil {
		s.Log().Warn("refused unsafe sip_h_ variable (CR/LF, control bytes or reserved name)")
	}

	c := newOutboundCall(p, s)
	c.wantRTC = OfferWebRTC(vars.Value, transport)
	setOriginatorCodec(s)
	// The far end of an outbound leg is trusted to transfer only when it is a registered contact
	// (it authenticated to register); a gateway or a bare URI is not.
	c.auth = authority{authed: gw == nil && p.registeredContact(target), context: p.cfg.Context}
	if gw != nil && gw.cfg.Context != "" {
		c.auth.context = gw.cfg.Context
	}
	// The full offer; over UDP an INVITE too big for it goes over TCP (udpsize.go).
	pr := negotiationPrefs(&p.cfg, false, false, vars.Value)
	body, err := c.buildOffer(pr)
	if err != nil {
		if ae, ok := p.admissionRefusal(err); ok {
			return nil, &core.CallError{Cause: core.CauseSwitchCongestion, SIP: 503, Reason: ae.Error(), Err: err}
		}
		return nil, &core.CallError{Cause: core.CauseIncompatibleDestination, Err: err}
	}

	prof := s.Profile()
	fromHost := p.extSIPIP.String()
	fromUser := prof.CallerIDNumber
	if gw != nil {
		fromHost = gw.cfg.FromDom
		if !gw.cfg.CallerIDInFrom {
			fromUser = gw.cfg.FromUser
		}
	}
	if v := vars.Value("sip_from_host"); v != "" && validHeaderValue(v) {
		fromHost = v
	}
	req := sip.NewRequest(sip.INVITE, u)
	req.SetTransport(transport)
	from := &sip.FromHeader{DisplayName: prof.CallerIDName, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	toURI := sip.Uri{Scheme: "sip", User: u.User, Host: u.Host, Port: u.Port}
	if v := vars.Value("sip_invite_domain"); v != "" && validHeaderValue(v) && gw == nil {
		toURI.Host, toURI.Port = v, 0
	}
	req.AppendHeader(&sip.ToHeader{Address: toURI, Params: sip.NewParams()})
	mf := sip.MaxForwardsHeader(maxFwd)
	req.AppendHeader(&mf)
	contact := sip.ContactHeader{Address: p.dua.ContactHDR.Address}
	contact.Address.User = fromUser
	if contact.Address.User == "" {
		contact.Address.User = "mod_sofia"
	}
	if transport != "udp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", transport)
		if transport == "tls" && p.tlsPort != 0 {
			contact.Address.Port = p.tlsPort
		}
		if ap := p.wsListenerFor(transport); ap.IsValid() {
			contact.Address.Port = int(ap.Port())
		}
	}
	req.AppendHeader(&contact)
	if vars.Value("sip_cid_type") != "none" && prof.CallerIDNumber != "" && validHeaderValue(prof.CallerIDName) && validHeaderValue(prof.CallerIDNumber) {
		id := fmt.Sprintf("\"%s\" <sip:%s@%s>", strings.ReplaceAll(prof.CallerIDName, "\"", ""), prof.CallerIDNumber, fromHost)
		switch strings.ToLower(vars.Value("sip_cid_type")) {
		case "pid":
			req.AppendHeader(sip.NewHeader("P-Asserted-Identity", id))
		default:
			req.AppendHeader(sip.NewHeader("Remote-Party-ID", id+";party=calling;screen=yes;privacy=off"))
		}
	}
	for _, r := range pathRoute {
		if validHeaderValue(r) {
			req.AppendHeader(sip.NewHeader("Route", r))
		}
	}
	if r := req.Route(); r != nil && len(pathRoute) > 0 {
		req.SetDestination(r.Address.HostPort())
	}
	if route := vars.Value("sip_route_uri"); route != "" && validHeaderValue(route) {
		req.AppendHeader(sip.NewHeader("Route", "<"+strings.TrimSuffix(strings.TrimPrefix(route, "<"), ">")+";lr>"))
		if r := req.Route(); r != nil {
			req.SetDestination(r.Address.HostPort())
		}
	}
	if gw != nil && gw.cfg.Proxy != "" && gw.cfg.Proxy != u.Host {
		if pu, err := parseTarget(gw.cfg.Proxy); err == nil {
			port := pu.Port
			if port == 0 {
				port = 5060
			}
			req.SetDestination(net.JoinHostPort(pu.Host, strconv.Itoa(port)))
		}
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowHeader))
	if sup := p.supportedHeader(); sup != "" {
		req.AppendHeader(sip.NewHeader("Supported", sup))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	if p.cfg.SessionTimeout > 0 && p.timerEnabled() {
		req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(int(p.cfg.SessionTimeout.Seconds()))))
		if p.cfg.MinSE > 0 {
			req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(p.cfg.MinSE.Seconds()))))
		}
	}
	callID := sip.CallIDHeader(uuid.NewString())
	if core.True(vars.Value("sip_outbound_use_uuid_as_callid")) || core.True(vars.Value("outbound_use_uuid_as_callid")) {
		callID = sip.CallIDHeader(s.UUID())
	}
	req.AppendHeader(&callID)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	if transport == "udp" {
		req.Laddr = sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port}
	}

	auth := outboundAuth{user: vars.Value("sip_auth_username"), pass: vars.Value("sip_auth_password")}
	if gw != nil && auth.pass == "" {
		auth = outboundAuth{user: gw.cfg.Username, pass: gw.cfg.Password}
	}
	name := "sofia/" + p.cfg.Name + "/" + target
	if gw != nil {
		name = "sofia/gateway/" + gw.cfg.Name + "/" + u.User
	}
	s.SetName(name)
	s.SetVar("sip_profile_name", p.cfg.Name)
	s.SetVar("sofia_profile_name", p.cfg.Name)
	s.SetVar("sip_to_user", u.User)
	s.SetVar("sip_to_host", u.Host)
	s.SetVar("sip_req_uri", u.User+"@"+u.HostPort())
	s.SetVar("sip_from_user", fromUser)
	s.SetVar("sip_via_protocol", transport)
	if gw != nil {
		s.SetVar("sip_gateway_name", gw.cfg.Name)
		for _, kv := range gw.cfg.Vars {
			s.SetVar(kv[0], kv[1])
		}
	}
	p.callsOut.Add(1)
	ictx, cancel := context.WithCancel(context.Background())
	c.cancelInvite = cancel
	p.inviting.Store(string(callID), c)
	dc, used, err := c.writeInvite(ictx, req, auth.pass != "", func() ([]byte, error) { return c.buildOffer(compactForUDP(pr)) })
	if used != transport {
		s.SetVar("sip_via_protocol", used)
	}
	if err != nil {
		p.inviting.Delete(string(callID))
		cancel()
		c.closeMedia()
		p.failedOut.Add(1)
		return nil, &core.CallError{Cause: core.CauseDestinationOutOfOrder, SIP: 502, Err: err}
	}
	c.dc = dc
	c.key = callKey(req.CallID().Value(), tagOf(from.Params))
	s.SetVar("sip_call_id", req.CallID().Value())
	p.calls.Store(c.key, &c.call)
	c.waitDone = make(chan struct{})
	// The leg must be attached before a 183 can arrive: the bridge joins early media through it.
	s.SetLeg(c)
	go c.waitAnswer(ictx, auth, gw)
	go p.watchCall(&c.call) // drops the dialog from the table however the leg ends
	return c, nil
}
