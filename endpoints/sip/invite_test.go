package sip

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// baseSpec is a direct call from extension 1000 of profile "internal" on 10.0.0.1:5060.
func baseSpec(vars map[string]string) inviteSpec {
	list := [][2]string{}
	for k, v := range vars {
		list = append(list, [2]string{k, v})
	}
	return inviteSpec{
		target:    "1001@10.0.0.9:5062",
		vars:      func(k string) string { return vars[k] },
		varList:   list,
		uuid:      "leg-uuid",
		cidName:   "Alice",
		cidNumber: "1000",
		profile:   "internal",
		extIP:     "10.0.0.1",
		contact:   sip.Uri{Scheme: "sip", Host: "10.0.0.1", Port: 5060},
		tlsPort:   5061,
		supported: "timer",
		userAgent: "goswitch",
		laddr:     sip.Addr{IP: net.IPv4(10, 0, 0, 1), Port: 5060},
		fromTag:   "ftag",
		callID:    "cid-1",
	}
}

func TestBuildInvite(t *testing.T) {
	gw := &GatewayConfig{Name: "carrier", Username: "acct", Password: "pw", FromUser: "acct", FromDom: "carrier.example",
		Proxy: "192.0.2.7:5070", Vars: [][2]string{{"gw_var", "1"}}}
	tests := []struct {
		name     string
		vars     map[string]string
		edit     func(*inviteSpec)
		cause    core.Cause // non-zero: buildInvite fails with it
		lines    []string   // lines of the rendered request
		absent   []string   // header names it must not carry
		dest     string     // req.Destination()
		chanName string
		setVars  map[string]string // some of invite.vars
		auth     outboundAuth
	}{
		{
			name: "direct udp",
			lines: []string{
				"INVITE sip:1001@10.0.0.9:5062 SIP/2.0",
				"From: \"Alice\" <sip:1000@10.0.0.1>;tag=ftag",
				"To: <sip:1001@10.0.0.9:5062>",
				"Max-Forwards: 70",
				"Contact: <sip:1000@10.0.0.1:5060>",
				"Remote-Party-ID: \"Alice\" <sip:1000@10.0.0.1>;party=calling;screen=yes;privacy=off",
				"Allow: " + allowHeader,
				"Supported: timer",
				"User-Agent: goswitch",
				"Call-ID: cid-1",
				"Content-Type: application/sdp",
			},
			absent:   []string{"Route", "Session-Expires", "P-Asserted-Identity"},
			dest:     "10.0.0.9:5062",
			chanName: "sofia/internal/1001@10.0.0.9:5062",
			setVars: map[string]string{"sip_to_user": "1001", "sip_to_host": "10.0.0.9", "sip_req_uri": "1001@10.0.0.9:5062",
				"sip_from_user": "1000", "sip_via_protocol": "udp", "sofia_profile_name": "internal"},
		},
		{name: "bad target", edit: func(s *inviteSpec) { s.target = "<bad>" }, cause: core.CauseInvalidURL},
		{name: "unknown transport", edit: func(s *inviteSpec) { s.target = "1001@10.0.0.9;transport=sctp" }, cause: core.CauseInvalidURL},
		{
			name:     "tcp",
			edit:     func(s *inviteSpec) { s.target = "1001@10.0.0.9;transport=TCP" },
			lines:    []string{"Contact: <sip:1000@10.0.0.1:5060;transport=tcp>"},
			setVars:  map[string]string{"sip_via_protocol": "tcp"},
			chanName: "sofia/internal/1001@10.0.0.9;transport=TCP",
		},
		{
			name:  "tls uses the TLS port",
			edit:  func(s *inviteSpec) { s.target = "1001@10.0.0.9;transport=tls" },
			lines: []string{"Contact: <sip:1000@10.0.0.1:5061;transport=tls>"},
		},
		{
			name: "wss uses its listener",
			edit: func(s *inviteSpec) {
				s.target = "1001@10.0.0.9;transport=wss"
				s.listenerFor = func(tr string) netip.AddrPort {
					if tr == "wss" {
						return netip.MustParseAddrPort("10.0.0.1:7443")
					}
					return netip.AddrPort{}
				}
			},
			lines: []string{"Contact: <sip:1000@10.0.0.1:7443;transport=wss>"},
		},
		{
			name: "internal params stripped, Path becomes Route",
			edit: func(s *inviteSpec) {
				s.target = "1001@10.0.0.9:5062;fs_nat=yes;fs_path=%3Csip%3A10.0.0.3%3A5070%3Blr%3E"
			},
			lines: []string{"INVITE sip:1001@10.0.0.9:5062 SIP/2.0", "Route: <sip:10.0.0.3:5070;lr>"},
			dest:  "10.0.0.3:5070",
		},
		{name: "originator hop count", edit: func(s *inviteSpec) { s.originatorMaxFwd = "10" }, lines: []string{"Max-Forwards: 9"}},
		{name: "max_forwards variable wins", vars: map[string]string{"max_forwards": "5"}, edit: func(s *inviteSpec) { s.originatorMaxFwd = "10" }, lines: []string{"Max-Forwards: 5"}},
		{name: "loop", edit: func(s *inviteSpec) { s.originatorMaxFwd = "1" }, cause: core.CauseExchangeRoutingError},
		{
			name:   "pid",
			vars:   map[string]string{"sip_cid_type": "PID"},
			lines:  []string{"P-Asserted-Identity: \"Alice\" <sip:1000@10.0.0.1>"},
			absent: []string{"Remote-Party-ID"},
		},
		{name: "no caller id header", vars: map[string]string{"sip_cid_type": "none"}, absent: []string{"Remote-Party-ID", "P-Asserted-Identity"}},
		{
			name:  "from host and invite domain",
			vars:  map[string]string{"sip_from_host": "pbx.example", "sip_invite_domain": "example.com"},
			lines: []string{"From: \"Alice\" <sip:1000@pbx.example>;tag=ftag", "To: <sip:1001@example.com>"},
		},
		{
			name:  "route uri",
			vars:  map[string]string{"sip_route_uri": "<sip:10.0.0.4:5080>"},
			lines: []string{"Route: <sip:10.0.0.4:5080;lr>"},
			dest:  "10.0.0.4:5080",
		},
		{name: "uuid as call-id", vars: map[string]string{"sip_outbound_use_uuid_as_callid": "true"}, lines: []string{"Call-ID: leg-uuid"}},
		{
			name:  "session timer",
			edit:  func(s *inviteSpec) { s.sessionExp, s.minSE = 1800*time.Second, 90*time.Second },
			lines: []string{"Session-Expires: 1800", "Min-SE: 90"},
		},
		{
			name:   "custom headers, reserved refused",
			vars:   map[string]string{"sip_h_X-Account": "42", "sip_h_Route": "<sip:evil>"},
			lines:  []string{"X-Account: 42"},
			absent: []string{"Route"},
		},
		{
			name:     "gateway",
			vars:     map[string]string{"sip_invite_domain": "ignored.example"},
			edit:     func(s *inviteSpec) { s.gw, s.target = gw, "5551234@carrier.example" },
			lines:    []string{"From: \"Alice\" <sip:acct@carrier.example>;tag=ftag", "To: <sip:5551234@carrier.example>", "Contact: <sip:acct@10.0.0.1:5060>"},
			dest:     "192.0.2.7:5070",
			chanName: "sofia/gateway/carrier/5551234",
			setVars:  map[string]string{"sip_gateway_name": "carrier", "gw_var": "1", "sip_from_user": "acct"},
			auth:     outboundAuth{user: "acct", pass: "pw"},
		},
		{
			name: "auth variables win over the gateway's",
			vars: map[string]string{"sip_auth_username": "u", "sip_auth_password": "p"},
			edit: func(s *inviteSpec) { s.gw = gw },
			auth: outboundAuth{user: "u", pass: "p"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := tc.vars
			if vars == nil {
				vars = map[string]string{}
			}
			spec := baseSpec(vars)
			if tc.edit != nil {
				tc.edit(&spec)
			}
			inv, err := buildInvite(spec)
			if tc.cause != 0 {
				var ce *core.CallError
				if !errors.As(err, &ce) || ce.Cause != tc.cause {
					t.Fatalf("err = %v, want cause %v", err, tc.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msg := inv.req.String()
			got := strings.Split(msg, "\r\n")
			for _, want := range tc.lines {
				if !hasLine(got, want) {
					t.Errorf("missing %q in\n%s", want, msg)
				}
			}
			for _, h := range tc.absent {
				if inv.req.GetHeader(h) != nil {
					t.Errorf("unexpected %s header in\n%s", h, msg)
				}
			}
			if tc.dest != "" && inv.req.Destination() != tc.dest {
				t.Errorf("destination %q, want %q", inv.req.Destination(), tc.dest)
			}
			if tc.chanName != "" && inv.name != tc.chanName {
				t.Errorf("name %q, want %q", inv.name, tc.chanName)
			}
			set := map[string]string{}
			for _, kv := range inv.vars {
				set[kv[0]] = kv[1]
			}
			for k, v := range tc.setVars {
				if set[k] != v {
					t.Errorf("var %s = %q, want %q", k, set[k], v)
				}
			}
			if udp := inv.transport == "udp"; udp != (inv.req.Laddr.Port == 5060) {
				t.Errorf("transport %s with Laddr %v: the UDP source is set for UDP only", inv.transport, inv.req.Laddr)
			}
			if tc.auth != inv.auth {
				t.Errorf("auth %+v, want %+v", inv.auth, tc.auth)
			}
			if inv.callID != inv.req.CallID().Value() || inv.from != inv.req.From() {
				t.Errorf("invite fields disagree with the request")
			}
			if strings.HasPrefix(tc.name, "custom") != inv.badHeader {
				t.Errorf("badHeader = %v", inv.badHeader)
			}
			// The body is the caller's: the request ends with Content-Type and no SDP yet.
			if len(inv.req.Body()) != 0 {
				t.Errorf("body set by buildInvite")
			}
		})
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestBuildInviteDeterministic: the same spec builds the same request (no hidden randomness).
func TestBuildInviteDeterministic(t *testing.T) {
	a, err := buildInvite(baseSpec(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := buildInvite(baseSpec(map[string]string{}))
	if a.req.String() != b.req.String() {
		t.Fatalf("two builds differ:\n%s\n%s", a.req.String(), b.req.String())
	}
}
