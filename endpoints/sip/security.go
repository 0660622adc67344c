package sip

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/netguard"
	"github.com/goswitch/goswitch/core/security"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Brute-force and flood defence of a profile (core/security): every request's source is
// checked against the host's ban table and the profile's pike limit before it is parsed, and
// every failed digest authentication (REGISTER, INVITE) counts towards a per-source ban and a
// per-user back-off. Banned sources get no answer at all.
//
// Profile params (seconds where a time):
//
//	auth-fail-max 5, auth-fail-window 60, auth-ban-time 900   per-source lockout (0 max: off)
//	auth-user-fail-max 10, auth-user-fail-window 600, auth-user-lock-time 60
//	                                      per-user back-off against sources the user never
//	                                      authenticated from (the lock doubles, up to 64x)
//	pike-max-requests 500, pike-window 2, pike-block-time 60   per-source rate limit (0: off);
//	                                      a trunk above ~80 calls/s (INVITE+ACK+BYE) needs
//	                                      security-trusted-acl
//	pike-loopback false                   rate-limit loopback sources too
//	security-trusted-acl <acl,...>        sources exempt from all of the above (and so are the
//	                                      profile's gateways whose proxy is an IP address)
//
// max-recv-requests-per-second N (FreeSWITCH) sets pike to N per 1 s unless pike-max-requests
// is given.

// defaultSIPPolicy is DefaultPolicy plus pike: more than 500 requests in 2 s ban a source for
// 60 s.
func defaultSIPPolicy(profile string) security.Policy {
	pol := security.DefaultPolicy("sip/" + profile)
	pol.PikeMax, pol.PikeWindow, pol.PikeBlock = 500, 2*time.Second, time.Minute
	return pol
}

// securityParam parses one security param into pc; false when name is not one.
func securityParam(pc *ProfileConfig, name, v string, atoi func(name, v string) int) bool {
	switch name {
	case "pike-loopback":
		pc.Security.PikeLoopback = boolParam(v)
	case "security-trusted-acl":
		pc.TrustedACL = append(pc.TrustedACL, splitComma(v)...)
	default:
		if !security.IsParam(name) {
			return false
		}
		pc.Security.SetParam(name, atoi(name, v))
	}
	return true
}

// newGuard builds the profile's guard on the host's ban table. Trusted are the sources of
// security-trusted-acl (looked up in the acl.conf in force at each check, so reloadacl
// applies) and the profile's gateways given by address: a trunk carrying many calls must not
// trip pike.
func (p *Profile) newGuard() *security.Guard {
	pol := p.cfg.Security
	gws := map[netip.Addr]bool{}
	for _, g := range p.cfg.Gateways {
		for _, v := range []string{g.Proxy, g.RegisterProxy} {
			if a, ok := literalHost(v); ok {
				gws[a] = true
			}
		}
	}
	if names := p.cfg.TrustedACL; len(names) > 0 || len(gws) > 0 {
		pol.Trusted = func(a netip.Addr) bool {
			if gws[a] {
				return true
			}
			set := p.ep.ACL()
			if set == nil {
				return false
			}
			for _, n := range names {
				if set.Check(n, a) {
					return true
				}
			}
			return false
		}
	}
	return security.NewGuard(p.ep.h.Bans, pol, p.ep.h.Log)
}

// literalHost returns the address of a proxy value written as an IP ("sip:192.0.2.1:5060;transport=tcp").
func literalHost(v string) (netip.Addr, bool) {
	v = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(v), "sip:"), "sips:")
	v, _, _ = strings.Cut(v, ";")
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// secFilter decides, before parsing, whether data from info's source is dropped: a banned
// source's requests, and requests over the pike limit. Responses pass (they answer requests
// we sent). Over TCP/TLS the segments are dropped too, without closing the connection: sipgo
// would log an error line per closed connection, which a banned attacker could use to fill the
// log; refusing the connection at accept is the listener guard's job (Allow).
func (p *Profile) secFilter(info sip.TransportReadProps, data []byte) (drop bool) {
	if p.sec == nil || info.RemoteAddr == nil {
		return false
	}
	src := netguard.RemoteIP(info.RemoteAddr)
	if !src.IsValid() {
		return false
	}
	if len(bytes.Trim(data, "\r\n")) == 0 {
		return false // keep-alive CRLFs (the whole read, or a stream could hide a request behind them)
	}
	// A datagram is one message, so a response passes; a stream read can carry a response
	// followed by requests, so over TCP/TLS nothing from a banned source passes.
	if strings.EqualFold(info.Transport, "udp") && len(data) >= 8 && string(data[:8]) == "SIP/2.0 " {
		return false
	}
	return !p.sec.Request(src)
}

// authFailure counts a failed digest authentication of user from src. reason is what the log
// line says; the SIP answer stays the same whatever the reason (no user enumeration).
func (p *Profile) authFailure(src netip.Addr, user string, du *xmlconf.User, reason string) {
	if reason == "" {
		reason = "bad-password"
		if du == nil {
			reason = "unknown-user"
		}
	}
	p.sec.Failure(src, user, reason)
}

// Allow is the accept hook for a listener guard: false for a banned source.
func (p *Profile) Allow(a netip.Addr) bool { return !p.sec.Banned(a.Unmap()) }

// Guard returns the profile's security guard (counters, bans).
func (p *Profile) Guard() *security.Guard { return p.sec }

// securityRows are the counters `sofia status profile` shows (goswitch's own rows).
func securityRows(e *Endpoint, p *Profile) [][2]string {
	st := p.sec.Stats()
	pol := p.sec.Policy()
	return [][2]string{
		{"AUTH-FAILURES", fmt.Sprint(st.AuthFailures)},
		{"AUTH-BANS", fmt.Sprint(st.Bans)},
		{"FLOOD-BANS", fmt.Sprint(st.FloodBans)},
		{"USER-LOCKS", fmt.Sprint(st.UserLocks)},
		{"BANNED-DROPPED", fmt.Sprint(st.Refused)},
		{"BANNED-SOURCES", fmt.Sprint(len(e.h.Bans.List()))},
		{"AUTH-LOCKOUT", fmt.Sprintf("%d in %ds, ban %ds", pol.FailMax, int(pol.FailWindow.Seconds()), int(pol.BanTime.Seconds()))},
		{"PIKE", fmt.Sprintf("%d in %ds, block %ds", pol.PikeMax, int(pol.PikeWindow.Seconds()), int(pol.PikeBlock.Seconds()))},
	}
}
