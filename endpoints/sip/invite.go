package sip

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// outboundAuth are credentials to answer a 401/407 with.
type outboundAuth struct{ user, pass string }

// inviteSpec is everything buildInvite reads: the dial target, the leg's variables and caller
// id, the gateway and the profile's addresses. Random values (tag, Call-ID) come in too, so
// the same spec always builds the same INVITE.
type inviteSpec struct {
	target           string
	gw               *GatewayConfig // nil: a direct call
	vars             func(string) string
	varList          [][2]string // the leg's variables, for sip_h_* headers
	originatorMaxFwd string      // the A-leg's max_forwards ("" without one)
	uuid             string      // the leg's UUID (sip_outbound_use_uuid_as_callid)
	cidName          string
	cidNumber        string

	profile     string  // profile name
	extIP       string  // the profile's external SIP address: From host
	contact     sip.Uri // the profile's Contact
	tlsPort     int
	listenerFor func(transport string) netip.AddrPort // a WS/WSS listener, if any
	supported   string                                // Supported tags ("" for none)
	userAgent   string
	laddr       sip.Addr      // UDP source
	sessionExp  time.Duration // 0: no session timer offered
	minSE       time.Duration

	fromTag string
	callID  string
}

// invite is an outbound INVITE ready to send but for its SDP body, and what send does with it.
type invite struct {
	req       *sip.Request
	from      *sip.FromHeader
	callID    string
	transport string
	auth      outboundAuth // answers a 401/407
	name      string       // the channel name
	vars      [][2]string  // channel variables to set, in FreeSWITCH's order
	badHeader bool         // a sip_h_* variable was refused
}

// buildInvite writes the INVITE for spec. It does no I/O: the caller attaches the SDP offer
// (req.SetBody) and sends it.
func buildInvite(spec inviteSpec) (*invite, error) {
	gw, vars := spec.gw, spec.vars
	u, err := parseTarget(spec.target)
	if err != nil {
		return nil, &core.CallError{Cause: core.CauseInvalidURL, Reason: err.Error()}
	}
	pathRoute := takeFSPath(&u) // cluster: a registration's Path becomes the Route set
	transport := "udp"
	if t, ok := u.UriParams.Get("transport"); ok && t != "" {
		transport = strings.ToLower(t)
	}
	if gw != nil && gw.Transport != "" && !u.UriParams.Has("transport") {
		transport = gw.Transport
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
	maxFwd, err := maxForwards(spec.originatorMaxFwd, vars("max_forwards"))
	if err != nil {
		return nil, err
	}
	hdrs, herr := customHeaders(spec.varList)
	inv := &invite{transport: transport, badHeader: herr != nil}

	fromHost, fromUser := spec.extIP, spec.cidNumber
	if gw != nil {
		fromHost = gw.FromDom
		if !gw.CallerIDInFrom {
			fromUser = gw.FromUser
		}
	}
	if v := vars("sip_from_host"); v != "" && validHeaderValue(v) {
		fromHost = v
	}
	req := sip.NewRequest(sip.INVITE, u)
	req.SetTransport(transport)
	from := &sip.FromHeader{DisplayName: spec.cidName, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", spec.fromTag)
	req.AppendHeader(from)
	toURI := sip.Uri{Scheme: "sip", User: u.User, Host: u.Host, Port: u.Port}
	if v := vars("sip_invite_domain"); v != "" && validHeaderValue(v) && gw == nil {
		toURI.Host, toURI.Port = v, 0
	}
	req.AppendHeader(&sip.ToHeader{Address: toURI, Params: sip.NewParams()})
	mf := sip.MaxForwardsHeader(maxFwd)
	req.AppendHeader(&mf)
	contact := inviteContact(spec, fromUser, transport)
	req.AppendHeader(&contact)
	if id := assertedIdentity(spec, fromHost); id != nil {
		req.AppendHeader(id)
	}
	routeInvite(req, u, pathRoute, vars("sip_route_uri"), gw)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowHeader))
	if spec.supported != "" {
		req.AppendHeader(sip.NewHeader("Supported", spec.supported))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", spec.userAgent))
	if spec.sessionExp > 0 {
		req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(int(spec.sessionExp.Seconds()))))
		if spec.minSE > 0 {
			req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(spec.minSE.Seconds()))))
		}
	}
	callID := sip.CallIDHeader(spec.callID)
	if core.True(vars("sip_outbound_use_uuid_as_callid")) || core.True(vars("outbound_use_uuid_as_callid")) {
		callID = sip.CallIDHeader(spec.uuid)
	}
	req.AppendHeader(&callID)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if transport == "udp" {
		req.Laddr = spec.laddr
	}
	inv.req, inv.from, inv.callID = req, from, string(callID)

	inv.auth = outboundAuth{user: vars("sip_auth_username"), pass: vars("sip_auth_password")}
	if gw != nil && inv.auth.pass == "" {
		inv.auth = outboundAuth{user: gw.Username, pass: gw.Password}
	}
	inv.name = "sofia/" + spec.profile + "/" + spec.target
	if gw != nil {
		inv.name = "sofia/gateway/" + gw.Name + "/" + u.User
	}
	inv.vars = [][2]string{
		{"sip_profile_name", spec.profile},
		{"sofia_profile_name", spec.profile},
		{"sip_to_user", u.User},
		{"sip_to_host", u.Host},
		{"sip_req_uri", u.User + "@" + u.HostPort()},
		{"sip_from_user", fromUser},
		{"sip_via_protocol", transport},
	}
	if gw != nil {
		inv.vars = append(inv.vars, [2]string{"sip_gateway_name", gw.Name})
		inv.vars = append(inv.vars, gw.Vars...)
	}
	return inv, nil
}

// maxForwards is one less than the A-leg's Max-Forwards (a loop dies with 483), or the leg's
// max_forwards variable; 70 by default.
func maxForwards(originator, own string) (int, error) {
	maxFwd := 70
	if originator != "" {
		if n, err := strconv.Atoi(originator); err == nil {
			maxFwd = n - 1
		}
	}
	if own != "" {
		if n, err := strconv.Atoi(own); err == nil {
			maxFwd = n
		}
	}
	if maxFwd <= 0 {
		return 0, &core.CallError{Cause: core.CauseExchangeRoutingError, SIP: 483, Reason: "Max-Forwards exhausted"}
	}
	return maxFwd, nil
}

// inviteContact is the profile's Contact with the caller's user, and the transport and port
// of a TCP, TLS or WebSocket leg.
func inviteContact(spec inviteSpec, fromUser, transport string) sip.ContactHeader {
	contact := sip.ContactHeader{Address: spec.contact}
	contact.Address.User = fromUser
	if contact.Address.User == "" {
		contact.Address.User = "mod_sofia"
	}
	if transport != "udp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", transport)
		if transport == "tls" && spec.tlsPort != 0 {
			contact.Address.Port = spec.tlsPort
		}
		if spec.listenerFor != nil {
			if ap := spec.listenerFor(transport); ap.IsValid() {
				contact.Address.Port = int(ap.Port())
			}
		}
	}
	return contact
}

// assertedIdentity is the caller id header sip_cid_type asks for: Remote-Party-ID by default,
// P-Asserted-Identity for "pid", none for "none" or without a number.
func assertedIdentity(spec inviteSpec, fromHost string) sip.Header {
	cidType := spec.vars("sip_cid_type")
	if cidType == "none" || spec.cidNumber == "" || !validHeaderValue(spec.cidName) || !validHeaderValue(spec.cidNumber) {
		return nil
	}
	id := fmt.Sprintf("\"%s\" <sip:%s@%s>", strings.ReplaceAll(spec.cidName, "\"", ""), spec.cidNumber, fromHost)
	if strings.ToLower(cidType) == "pid" {
		return sip.NewHeader("P-Asserted-Identity", id)
	}
	return sip.NewHeader("Remote-Party-ID", id+";party=calling;screen=yes;privacy=off")
}

// routeInvite adds the Route set (a registration's Path, then sip_route_uri) and sends the
// request to its first hop, or to the gateway's proxy.
func routeInvite(req *sip.Request, u sip.Uri, pathRoute []string, routeURI string, gw *GatewayConfig) {
	for _, r := range pathRoute {
		if validHeaderValue(r) {
			req.AppendHeader(sip.NewHeader("Route", r))
		}
	}
	if r := req.Route(); r != nil && len(pathRoute) > 0 {
		req.SetDestination(r.Address.HostPort())
	}
	if routeURI != "" && validHeaderValue(routeURI) {
		req.AppendHeader(sip.NewHeader("Route", "<"+strings.TrimSuffix(strings.TrimPrefix(routeURI, "<"), ">")+";lr>"))
		if r := req.Route(); r != nil {
			req.SetDestination(r.Address.HostPort())
		}
	}
	if gw != nil && gw.Proxy != "" && gw.Proxy != u.Host {
		if pu, err := parseTarget(gw.Proxy); err == nil {
			port := pu.Port
			if port == 0 {
				port = 5060
			}
			req.SetDestination(net.JoinHostPort(pu.Host, strconv.Itoa(port)))
		}
	}
}
