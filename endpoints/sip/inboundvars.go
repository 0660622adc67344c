package sip

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

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
