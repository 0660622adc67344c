package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/sdp"
	"github.com/goswitch/goswitch/core/security"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// ProfileConfig is one <profile> of sofia.conf (FS-COMPAT 1.5) after parsing.
type ProfileConfig struct {
	Name                string
	SIPIP, RTPIP        string
	ExtSIPIP, ExtRTPIP  string
	SIPPort             int // 0 = any free port (tests)
	Context, Dialplan   string
	AuthCalls           bool
	InboundACL          []string
	RegisterACL         []string
	ForceRegisterDomain string
	ChallengeRealm      string // auto_from, auto_to or a realm
	InboundCodecs       []sdp.CodecPref
	OutboundCodecs      []sdp.CodecPref
	Generous            bool // inbound-codec-negotiation generous
	DTMFType            string
	RFC2833PT           uint8
	CNGPT               uint8 // cng-pt: RFC 3389 PT offered (13); 0 after suppress-cng
	DisableHold         bool  // disable-hold: a far-end hold fires no events and plays no music
	UserAgent           string
	SessionTimeout      time.Duration
	MinSE               time.Duration
	NonceTTL            time.Duration
	TLS                 bool
	WSBinding           string // ws-binding, e.g. ":5066"
	WSSBinding          string // wss-binding, e.g. ":7443"
	TLSPort             int
	TLSCertDir          string
	MaxRecvRPS          int             // per source address; 0 = off (sets the pike limit, see security.go)
	Security            security.Policy // lockout and rate limit (auth-fail-*, auth-user-*, pike-*)
	TrustedACL          []string        // security-trusted-acl: sources exempt from Security
	Stream              StreamLimits
	DisableRegister     bool
	AcceptBlindReg      bool
	RTPStartPort        int
	RTPEndPort          int
	RTPTimeout          time.Duration
	RTPHoldTimeout      time.Duration
	Gateways            []GatewayConfig
	Params              map[string]string // every param as written, for sofia status
	Pos                 xmlconf.Pos

	// ReferRequiresAuth (refer-requires-auth, default true): a REFER from a party that did not
	// authenticate when its dialog began is refused with 403.
	ReferRequiresAuth bool
	// DisableTransfer (disable-transfer): every REFER is refused with 403, as sip_disable_transfer.
	DisableTransfer bool
	// AllowDefaultPassword (allow-default-password): accept the default password 1234, an empty
	// one or an a1-hash of either from public addresses too, with a warning (as goswitch -insecure).
	AllowDefaultPassword bool
	// MultipleRegistrations (multiple-registrations): one registration per user (unset/false),
	// per contact ("contact") or per Call-ID ("true").
	MultipleRegistrations MultiReg
}

// GatewayConfig is one <gateway>.
type GatewayConfig struct {
	Name, Profile            string
	Username, Password       string
	Realm, FromUser, FromDom string
	Proxy, RegisterProxy     string
	Extension, Context       string
	Register                 bool
	Transport                string
	Expire, Retry            time.Duration
	Ping                     time.Duration
	PingMaxFail              int
	CallerIDInFrom           bool
	Vars                     [][2]string
}

func boolParam(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1", "enabled", "active", "allow":
		return true
	}
	return false
}

// parseProfiles reads every profile of sofia.conf.
func parseProfiles(snap *xmlconf.Snapshot) ([]ProfileConfig, error) {
	conf := snap.Configuration("sofia.conf")
	if conf == nil {
		return nil, nil
	}
	var out []ProfileConfig
	var errs []string
	seen := map[string]bool{}
	for _, pe := range conf.FindElements("profiles/profile") {
		pc, err := parseProfile(snap, pe)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if seen[pc.Name] {
			errs = append(errs, fmt.Sprintf("%s: duplicate profile %s", snap.Pos(pe), pc.Name))
			continue
		}
		seen[pc.Name] = true
		out = append(out, pc)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("sofia.conf: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// profileParam applies one <param> of a profile's settings (the security ones aside, see
// securityParam). atoi records a value that is not a number; other bad values are returned.
func profileParam(pc *ProfileConfig, name, v string, atoi func(name, v string) int) error {
	switch name {
	case "sip-ip":
		pc.SIPIP = v
	case "rtp-ip":
		pc.RTPIP = v
	case "ext-sip-ip":
		pc.ExtSIPIP = v
	case "ext-rtp-ip":
		pc.ExtRTPIP = v
	case "sip-port":
		pc.SIPPort = atoi(name, v)
	case "context":
		pc.Context = v
	case "dialplan":
		pc.Dialplan = v
	case "auth-calls":
		pc.AuthCalls = boolParam(v)
	case "apply-inbound-acl":
		pc.InboundACL = append(pc.InboundACL, splitComma(v)...)
	case "apply-register-acl":
		pc.RegisterACL = append(pc.RegisterACL, splitComma(v)...)
	case "force-register-domain":
		pc.ForceRegisterDomain = v
	case "challenge-realm":
		pc.ChallengeRealm = v
	case "inbound-codec-prefs", "codec-prefs":
		pc.InboundCodecs = sdp.ParseCodecString(v)
		if name == "codec-prefs" && pc.OutboundCodecs == nil {
			pc.OutboundCodecs = pc.InboundCodecs
		}
	case "outbound-codec-prefs":
		pc.OutboundCodecs = sdp.ParseCodecString(v)
	case "inbound-codec-negotiation":
		pc.Generous = v == "generous"
	case "dtmf-type":
		pc.DTMFType = v
	case "rfc2833-pt":
		pc.RFC2833PT = uint8(atoi(name, v))
	case "disable-hold":
		pc.DisableHold = core.True(v)
	case "suppress-cng", "supress-cng":
		if core.True(v) {
			pc.CNGPT = 0
		}
	case "cng-pt":
		if pc.CNGPT != 0 {
			pc.CNGPT = uint8(atoi(name, v))
		}
	case "user-agent-string":
		pc.UserAgent = v
	case "session-timeout":
		pc.SessionTimeout = time.Duration(atoi(name, v)) * time.Second
	case "minimum-session-expires":
		pc.MinSE = time.Duration(atoi(name, v)) * time.Second
	case "nonce-ttl":
		pc.NonceTTL = time.Duration(atoi(name, v)) * time.Second
	case "tls":
		pc.TLS = boolParam(v)
	case "ws-binding":
		pc.WSBinding = v
	case "wss-binding":
		pc.WSSBinding = v
	case "tls-sip-port":
		pc.TLSPort = atoi(name, v)
	case "tls-cert-dir":
		pc.TLSCertDir = v
	case "max-recv-requests-per-second":
		pc.MaxRecvRPS = atoi(name, v)
	case "tcp-max-connections":
		pc.Stream.MaxConns = atoi(name, v)
	case "tcp-max-connections-per-source":
		pc.Stream.MaxPerSource = atoi(name, v)
	case "tcp-message-timeout", "tcp-idle-timeout", "tcp-write-timeout", "tls-handshake-timeout":
		d, err := parseSeconds(v)
		*pc.Stream.timeout(name) = d
		return err
	case "disable-register":
		pc.DisableRegister = boolParam(v)
	case "accept-blind-reg":
		pc.AcceptBlindReg = boolParam(v)
	case "multiple-registrations":
		pc.MultipleRegistrations = parseMultiReg(v)
	case "refer-requires-auth":
		pc.ReferRequiresAuth = boolParam(v)
	case "disable-transfer":
		pc.DisableTransfer = boolParam(v)
	case "allow-default-password":
		pc.AllowDefaultPassword = boolParam(v)
	case "rtp-start-port":
		pc.RTPStartPort = atoi(name, v)
	case "rtp-end-port":
		pc.RTPEndPort = atoi(name, v)
	case "rtp-timeout-sec":
		pc.RTPTimeout = time.Duration(atoi(name, v)) * time.Second
	case "rtp-hold-timeout-sec":
		pc.RTPHoldTimeout = time.Duration(atoi(name, v)) * time.Second
	}
	return nil
}

func parseProfile(snap *xmlconf.Snapshot, pe *etree.Element) (ProfileConfig, error) {
	pc := ProfileConfig{
		Name: pe.SelectAttrValue("name", ""), SIPPort: 5060, Context: "public", Dialplan: "XML",
		ChallengeRealm: "auto_from", InboundCodecs: sdp.ParseCodecString("PCMU,PCMA"), Generous: true,
		DTMFType: "rfc2833", RFC2833PT: 101, CNGPT: 13, UserAgent: "goswitch", NonceTTL: 60 * time.Second,
		TLSPort: 5061, MinSE: 120 * time.Second, Params: map[string]string{}, Pos: snap.Pos(pe),
		ReferRequiresAuth: true,
		Stream:            DefaultStreamLimits,
	}
	if pc.Name == "" {
		return pc, fmt.Errorf("%s: profile without name", snap.Pos(pe))
	}
	pc.Security = defaultSIPPolicy(pc.Name)
	var bad []string
	atoi := func(name, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s=%q is not a number", snap.Pos(pe), name, v))
		}
		return n
	}
	for _, p := range pe.FindElements("settings/param") {
		name, v := p.SelectAttrValue("name", ""), p.SelectAttrValue("value", "")
		pc.Params[name] = v
		if securityParam(&pc, name, v, atoi) {
			continue
		}
		if err := profileParam(&pc, name, v, atoi); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s=%q: %v", snap.Pos(pe), name, v, err))
		}
	}
	if pc.OutboundCodecs == nil {
		pc.OutboundCodecs = pc.InboundCodecs
	}
	if _, set := pc.Params["pike-max-requests"]; !set && pc.MaxRecvRPS > 0 {
		pc.Security.PikeMax, pc.Security.PikeWindow = pc.MaxRecvRPS, time.Second
	}
	for _, ge := range pe.FindElements("gateways/gateway") {
		g, err := parseGateway(snap, pc.Name, ge)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		pc.Gateways = append(pc.Gateways, g)
	}
	if len(bad) > 0 {
		return pc, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return pc, nil
}

func parseGateway(snap *xmlconf.Snapshot, profile string, ge *etree.Element) (GatewayConfig, error) {
	g := GatewayConfig{Name: ge.SelectAttrValue("name", ""), Profile: profile, Register: true,
		Transport: "udp", Expire: time.Hour, Retry: 30 * time.Second, PingMaxFail: 1}
	if g.Name == "" {
		return g, fmt.Errorf("%s: gateway without name", snap.Pos(ge))
	}
	for _, p := range ge.SelectElements("param") {
		name, v := p.SelectAttrValue("name", ""), p.SelectAttrValue("value", "")
		switch name {
		case "username":
			g.Username = v
		case "password":
			g.Password = v
		case "realm":
			g.Realm = v
		case "from-user":
			g.FromUser = v
		case "from-domain":
			g.FromDom = v
		case "proxy":
			g.Proxy = v
		case "register-proxy":
			g.RegisterProxy = v
		case "extension":
			g.Extension = v
		case "context":
			g.Context = v
		case "register":
			g.Register = boolParam(v)
		case "register-transport":
			g.Transport = strings.ToLower(v)
		case "expire-seconds":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				g.Expire = time.Duration(n) * time.Second
			}
		case "retry-seconds":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				g.Retry = time.Duration(n) * time.Second
			}
		case "ping":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				g.Ping = time.Duration(n) * time.Second
			}
		case "ping-max":
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				g.PingMaxFail = n
			}
		case "caller-id-in-from":
			g.CallerIDInFrom = boolParam(v)
		}
	}
	for _, v := range ge.FindElements("variables/variable") {
		g.Vars = append(g.Vars, [2]string{v.SelectAttrValue("name", ""), v.SelectAttrValue("value", "")})
	}
	if g.Realm == "" {
		g.Realm = g.Name
	}
	if g.Proxy == "" {
		g.Proxy = g.Realm
	}
	if g.RegisterProxy == "" {
		g.RegisterProxy = g.Proxy
	}
	if g.FromUser == "" {
		g.FromUser = g.Username
	}
	if g.FromDom == "" {
		g.FromDom = g.Realm
	}
	if g.Extension == "" {
		g.Extension = g.Username
	}
	if g.Register && (g.Username == "" || g.Password == "") {
		return g, fmt.Errorf("%s: gateway %s: username and password are required to register", snap.Pos(ge), g.Name)
	}
	return g, nil
}

func splitComma(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// resolveIP turns a sip-ip/rtp-ip value into an address (empty or unparsable: 127.0.0.1).
func resolveIP(v string) netip.Addr {
	if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
		return a
	}
	return netip.MustParseAddr("127.0.0.1")
}

// extIP resolves ext-sip-ip/ext-rtp-ip: an address, "auto"/"auto-nat" (our own IP, as we have
// no NAT map), or empty (the bind address).
func extIP(v string, bind netip.Addr) netip.Addr {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a
	}
	if strings.HasPrefix(v, "host:") || strings.HasPrefix(v, "stun:") {
		return bind // resolution of stun/host forms is not implemented; keep the bind address
	}
	return bind
}
