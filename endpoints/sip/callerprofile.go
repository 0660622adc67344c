package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

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

// callerProfile is an inbound call's caller profile and channel variables: the caller id (an
// asserted identity wins over From, as FreeSWITCH takes it), and the dialplan context (the
// profile's, a gateway's for a call from one of our gateways, or the user's user_context).
func (p *Profile) callerProfile(req *sip.Request, src netip.AddrPort, az inviteAuth) (*core.CallerProfile, [][2]string) {
	from := req.From()
	cidName, cidNum := from.DisplayName, from.Address.User
	if cidName == "" {
		cidName = from.Address.User
	}
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
	vars := p.inboundVars(req, src, az.user, az.username, az.realm, az.aclBy)
	if g := p.gatewayFor(src); g != nil {
		g.callsIn.Add(1)
		vars = append(vars, [2]string{"sip_gateway_name", g.cfg.Name})
		vars = append(vars, g.cfg.Vars...)
		if g.cfg.Context != "" {
			ctxName = g.cfg.Context
		}
	}
	if u := az.user; u != nil {
		for _, kv := range u.Vars {
			vars = append(vars, [2]string{kv.Name, kv.Value})
		}
		if uc := u.Var("user_context"); uc != "" {
			ctxName = uc
		}
	}
	if ctxName == "_domain_" {
		ctxName = from.Address.Host
	}
	name := fmt.Sprintf("sofia/%s/%s@%s", p.cfg.Name, from.Address.User, from.Address.Host)
	prof := &core.CallerProfile{
		Username: az.username, Dialplan: p.cfg.Dialplan, CallerIDName: cidName, CallerIDNumber: cidNum,
		NetworkAddr: src.Addr().String(), ANI: from.Address.User, DestNumber: req.Recipient.User,
		Source: "mod_sofia", Context: ctxName, ChanName: name,
	}
	prof.OrigCallerIDName, prof.OrigCallerIDNum = prof.CallerIDName, prof.CallerIDNumber
	return prof, vars
}
