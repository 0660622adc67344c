package sip

import (
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// authority is what the remote party of a dialog may ask for from the network (REFER): whether
// it authenticated when the dialog began and the context it entered on. For an inbound call that
// is digest auth or an ACL that trusts the source; for one of our outbound legs, that we dialled a
// contact that registered with digest auth. A dialplan transfer moves the channel (vanilla's public
// context sends DIDs to default) but never its authority, so an unauthenticated caller cannot reach
// default, or a gateway, by asking the network to transfer.
type authority struct {
	authed  bool
	context string
}

// referContext decides where a REFER received on c may send target (c's session or its bridged
// peer): the context to route in ("" keeps target's current one), or ok=false to refuse with 403.
// An authenticated referrer transfers as FreeSWITCH does (force_transfer_context if the dialplan set
// one, else the target's context). An unauthenticated one is refused while refer-requires-auth is
// on (the default); with it off the transfer is routed in force_transfer_context or transfer_context
// when the dialplan set one, else in the context the referrer entered on, never where a dialplan
// transfer took the call.
func (p *Profile) referContext(c *call, target *core.Session) (ctx string, ok bool) {
	forced := firstVar("force_transfer_context", c.s, target)
	if c.auth.authed {
		return forced, true
	}
	if p.cfg.ReferRequiresAuth {
		return "", false
	}
	if forced != "" {
		return forced, true
	}
	if v := firstVar("transfer_context", c.s, target); v != "" {
		return v, true
	}
	return c.auth.context, true
}

func firstVar(name string, ss ...*core.Session) string {
	for _, s := range ss {
		if s == nil {
			continue
		}
		if v := s.Var(name); v != "" {
			return v
		}
	}
	return ""
}

// registeredContact reports whether uri is the dial URI of a live registration on this profile
// (user/ and sofia_contact dial strings resolve to it).
func (p *Profile) registeredContact(uri string) bool {
	if p.ep.regs == nil || p.cfg.AcceptBlindReg {
		return false // accept-blind-reg: a registration proves no password
	}
	for _, r := range p.ep.regs.all(p.cfg.Name) {
		if r.dialURI() == uri {
			return true
		}
	}
	return false
}

// DefaultPassword is the vanilla directory's password ($${default_password}), the first one any
// scanner tries.
const DefaultPassword = "1234"

// WeakSecret says why user u's digest secret is one anyone can guess: the default password 1234,
// an empty password, or an a1-hash of either for username and realm. "" when it is not.
func WeakSecret(u *xmlconf.User, username, realm string) string {
	if u == nil {
		return ""
	}
	if a1 := strings.ToLower(strings.TrimSpace(u.Param("a1-hash"))); a1 != "" {
		switch a1 {
		case md5hex(username + ":" + realm + ":" + DefaultPassword):
			return "a1-hash of the default password " + DefaultPassword
		case md5hex(username + ":" + realm + ":"):
			return "a1-hash of an empty password"
		}
		return ""
	}
	switch u.Param("password") {
	case DefaultPassword:
		return "default password " + DefaultPassword
	case "":
		return "empty password"
	}
	return ""
}

// cgnat is RFC 6598 shared address space (carrier-grade NAT), not routed on the internet.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// LocalSource reports whether a is a source a default password is still accepted from: loopback,
// RFC 1918 and ULA (fc00::/7), link-local (169.254/16, fe80::/10) and CGNAT (100.64/10). Everything
// else, documentation ranges included, is the internet.
func LocalSource(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

// ownAddr reports whether a is an address of one of this machine's interfaces: a phone on the
// PBX host itself that registers to the public address is local too.
func ownAddr(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if n, ok := ia.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == a.Unmap() {
				return true
			}
		}
	}
	return false
}

// weakCredentialRefused applies the safe-default rule after a digest check succeeded: credentials
// that are a default (WeakSecret) are refused from a non-local source unless the host runs with
// -insecure or the profile sets allow-default-password. The caller answers 403, exactly as for a
// wrong password, so a refusal tells a scanner nothing a wrong guess would not.
func (p *Profile) weakCredentialRefused(u *xmlconf.User, username, realm string, src netip.AddrPort, method sip.RequestMethod) bool {
	why := WeakSecret(u, username, realm)
	if why == "" || LocalSource(src.Addr()) || ownAddr(src.Addr()) {
		return false
	}
	if p.ep.h.Insecure() || p.cfg.AllowDefaultPassword {
		p.log.Warn("INSECURE: accepted guessable credentials from a public address", "ip", src.Addr().String(),
			"user", username, "method", string(method), "reason", why)
		return false
	}
	p.log.Warn("security: refused guessable credentials from a public address", "ip", src.Addr().String(),
		"user", username, "method", string(method), "reason", why+" is accepted only from loopback and private addresses")
	p.authFailure(src.Addr(), username, u, "default-password") // counts towards the source's lockout
	return true
}

// warnWeakUsers logs, at profile start, the directory users whose secret is a default, when the
// profile listens on a non-loopback address.
func (p *Profile) warnWeakUsers() {
	if p.sipIP.IsLoopback() {
		return
	}
	var weak []string
	for _, d := range p.ep.h.Config().Directory().Domains() {
		for _, u := range d.Users {
			if WeakSecret(u, u.ID, d.Name) != "" {
				weak = append(weak, u.ID+"@"+d.Name)
			}
		}
	}
	if len(weak) == 0 {
		return
	}
	list := strings.Join(weak[:min(len(weak), 5)], ", ")
	if len(weak) > 5 {
		list += ", ..."
	}
	if p.ep.h.Insecure() || p.cfg.AllowDefaultPassword {
		p.log.Warn("INSECURE: users with a default or empty password can register and call from any address",
			"addr", p.sipIP.String(), "users", len(weak), "first", list)
		return
	}
	p.log.Warn("users with a default or empty password: their registrations and calls are refused from public addresses (loopback and private only); set real passwords",
		"addr", p.sipIP.String(), "users", len(weak), "first", list)
}
