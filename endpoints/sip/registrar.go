package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Registration is one registered contact of a user (FreeSWITCH's sip_registrations row).
type Registration struct {
	CallID      string
	User        string // sip_user
	Host        string // sip_host (the domain)
	Profile     string
	Contact     string // Contact header value as received
	ContactURI  string // the contact URI as received
	Expires     time.Time
	NetworkIP   string
	NetworkPort int
	Transport   string // UDP, TCP, TLS
	UserAgent   string
	AuthUser    string
	Realm       string
	NAT         bool
	Path        string // RFC 3327 Path of the REGISTER (the proxy's route back), "" = direct
	Node        string // switchname of the node that took the REGISTER (sip_registrations.hostname)
}

// dialURI is the URI to send INVITEs to: the contact, rewritten to the source address when the
// phone is behind NAT (UDP) and with the transport it registered over.
func (r *Registration) dialURI() string {
	var u sip.Uri
	if err := sip.ParseUri(r.ContactURI, &u); err != nil {
		return r.ContactURI
	}
	out := sip.Uri{Scheme: "sip", User: u.User, Host: u.Host, Port: u.Port}
	if out.Scheme == "" {
		out.Scheme = "sip"
	}
	// Behind NAT the contact is unreachable: use the address the REGISTER came from (for TCP/TLS
	// that is the phone's own connection, which sipgo's pool reuses). A WebSocket phone's contact
	// (sip:x@y.invalid;transport=ws) is never reachable: only its connection is.
	if r.NAT || isWebSocket(r.Transport) {
		out.Host, out.Port = r.NetworkIP, r.NetworkPort
	}
	s := out.String()
	if r.Transport != "" && r.Transport != "UDP" {
		s += ";transport=" + strings.ToLower(r.Transport)
	}
	s += fsPathParam(r.Path)
	if r.NAT {
		s += ";fs_nat=yes"
	}
	return s
}

// registry keeps registrations in memory, persisted through the store.
type registry struct {
	e  *Endpoint
	db *store.DB
	mu sync.RWMutex
	m  map[string][]*Registration // lower(user@host)
}

var regSchema = []string{
	`CREATE TABLE sip_registrations (
		call_id TEXT, sip_user TEXT, sip_host TEXT, profile_name TEXT, contact TEXT, contact_uri TEXT,
		expires INTEGER, network_ip TEXT, network_port INTEGER, network_proto TEXT, user_agent TEXT,
		auth_user TEXT, realm TEXT, nat INTEGER,
		PRIMARY KEY (profile_name, sip_user, sip_host, contact_uri))`,
}

func newRegistry(e *Endpoint, db *store.DB) (*registry, error) {
	if err := db.Migrate("sip_registrations", append(regSchema[:len(regSchema):len(regSchema)], regClusterSchema...)...); err != nil {
		return nil, err
	}
	r := &registry{e: e, db: db, m: map[string][]*Registration{}}
	rows, err := db.Query(`SELECT call_id, sip_user, sip_host, profile_name, contact, contact_uri, expires,
		network_ip, network_port, network_proto, user_agent, auth_user, realm, nat FROM sip_registrations WHERE expires > ?`, time.Now().Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var reg Registration
		var exp int64
		var nat int
		if err := rows.Scan(&reg.CallID, &reg.User, &reg.Host, &reg.Profile, &reg.Contact, &reg.ContactURI, &exp,
			&reg.NetworkIP, &reg.NetworkPort, &reg.Transport, &reg.UserAgent, &reg.AuthUser, &reg.Realm, &nat); err != nil {
			return nil, err
		}
		reg.Expires = time.Unix(exp, 0)
		reg.NAT = nat != 0
		k := regKey(reg.User, reg.Host)
		r.m[k] = append(r.m[k], &reg)
		n++
	}
	if n > 0 {
		e.log.Info("restored registrations", "count", n)
	}
	return r, rows.Err()
}

func regKey(user, host string) string { return strings.ToLower(user + "@" + host) }

// lookup returns live registrations of user@host, oldest first.
func (r *registry) lookup(user, host string) []*Registration {
	if out, ok := r.sharedLookup(user, host); ok {
		return out
	}
	now := time.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Registration
	for _, reg := range r.m[regKey(user, host)] {
		if reg.Expires.After(now) {
			c := *reg
			out = append(out, &c)
		}
	}
	return out
}

// all returns every live registration (optionally of one profile).
func (r *registry) all(profile string) []*Registration {
	now := time.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Registration
	for _, regs := range r.m {
		for _, reg := range regs {
			if reg.Expires.After(now) && (profile == "" || reg.Profile == profile) {
				c := *reg
				out = append(out, &c)
			}
		}
	}
	return out
}

func (r *registry) upsert(reg *Registration) (updated bool) {
	k := regKey(reg.User, reg.Host)
	r.mu.Lock()
	list := r.m[k]
	for i, old := range list {
		if old.Profile == reg.Profile && old.ContactURI == reg.ContactURI {
			list[i] = reg
			updated = true
			break
		}
	}
	if !updated {
		r.m[k] = append(list, reg)
	}
	r.mu.Unlock()
	nat := 0
	if reg.NAT {
		nat = 1
	}
	r.db.Write(`INSERT OR REPLACE INTO sip_registrations (`+regColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		reg.CallID, reg.User, reg.Host, reg.Profile, reg.Contact, reg.ContactURI, reg.Expires.Unix(),
		reg.NetworkIP, reg.NetworkPort, reg.Transport, reg.UserAgent, reg.AuthUser, reg.Realm, nat, reg.Node, reg.Path)
	return updated
}

// remove deletes registrations of user@host matching contactURI ("" = all) and returns them.
func (r *registry) remove(profile, user, host, contactURI string) []*Registration {
	return r.removeFunc(profile, user, host, func(reg *Registration) bool {
		return contactURI == "" || reg.ContactURI == contactURI
	})
}

// sweep expires registrations once a second and fires sofia::expire.
func (r *registry) sweep(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var gone []*Registration
			r.mu.Lock()
			for k, regs := range r.m {
				kept := regs[:0]
				for _, reg := range regs {
					if reg.Expires.After(now) {
						kept = append(kept, reg)
					} else {
						gone = append(gone, reg)
					}
				}
				if len(kept) == 0 {
					delete(r.m, k)
				} else {
					r.m[k] = kept
				}
			}
			r.mu.Unlock()
			for _, reg := range gone {
				// "expires <= now": another node may have refreshed the shared row since.
				r.db.Write(`DELETE FROM sip_registrations WHERE profile_name=? AND sip_user=? AND sip_host=? AND contact_uri=? AND expires <= ?`,
					reg.Profile, reg.User, reg.Host, reg.ContactURI, now.Unix())
				r.e.publishReg("sofia::expire", reg, "")
			}
		}
	}
}

// publishReg fires sofia::register / unregister / expire with FreeSWITCH's headers.
func (e *Endpoint) publishReg(sub string, reg *Registration, updateReg string) {
	ev := e.h.Bus.New("CUSTOM", sub)
	ev.Add("profile-name", reg.Profile)
	ev.Add("from-user", reg.User)
	ev.Add("from-host", reg.Host)
	ev.Add("presence-hosts", reg.Host)
	ev.Add("contact", reg.Contact)
	ev.Add("call-id", reg.CallID)
	ev.Add("rpid", "unknown")
	ev.Add("status", "Registered("+reg.Transport+")")
	ev.Add("expires", strconv.Itoa(max(0, int(time.Until(reg.Expires).Round(time.Second)/time.Second))))
	ev.Add("to-user", reg.User)
	ev.Add("to-host", reg.Host)
	ev.Add("network-ip", reg.NetworkIP)
	ev.Add("network-port", strconv.Itoa(reg.NetworkPort))
	ev.Add("username", reg.AuthUser)
	ev.Add("realm", reg.Realm)
	ev.Add("user-agent", reg.UserAgent)
	if updateReg != "" {
		ev.Add("update-reg", updateReg)
	}
	e.h.Bus.Publish(ev)
}

// onRegister is the registrar (RFC 3261 10.3).
func (p *Profile) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if p.cfg.DisableRegister {
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	src := sourceAddr(req)
	set := p.ep.ACL()
	for _, l := range p.cfg.RegisterACL {
		if !set.Check(l, src.Addr()) {
			p.log.Warn("IP rejected by register acl", "ip", src.Addr(), "acl", l)
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
	}
	to := req.To()
	user := to.Address.User
	domain := to.Address.Host
	if p.cfg.ForceRegisterDomain != "" {
		domain = p.cfg.ForceRegisterDomain
	}
	realm := p.realm(req)
	dir := p.ep.h.Config().Directory()
	du := dir.User(user, domain)
	authUser, ok := p.authorizeRegister(req, tx, user, domain, realm, du, src)
	if !ok {
		return
	}
	expires := 3600
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			expires = n
		}
	}
	contacts := req.GetHeaders("Contact")
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	transport := transportName(req)
	callID := req.CallID().Value()
	mreg := p.multiRegFor(du)
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, h := range contacts {
		for _, cv := range splitContacts(h.Value()) {
			if strings.TrimSpace(cv) == "*" {
				if expires != 0 {
					tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
					return
				}
				for _, reg := range p.ep.regs.remove(p.cfg.Name, user, domain, "") {
					p.ep.publishReg("sofia::unregister", reg, "")
				}
				continue
			}
			var ch sip.ContactHeader
			if _, err := sip.ParseAddressValue(cv, &ch.Address, &ch.Params); err != nil {
				tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Contact", nil))
				return
			}
			exp := expires
			if v, ok := ch.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					exp = n
				}
			}
			if du != nil && exp > 0 {
				if n, err := strconv.Atoi(du.Var("sip-force-expires")); err == nil && n > 0 {
					exp = n // directory override (FreeSWITCH's sip-force-expires)
				}
			}
			curi := ch.Address.String()
			if exp == 0 {
				for _, reg := range p.ep.regs.unregister(mreg, p.cfg.Name, user, domain, curi, callID) {
					p.ep.publishReg("sofia::unregister", reg, "")
				}
				continue
			}
			path := pathOf(req)
			nat := false
			if transport == "UDP" && path == "" { // behind a proxy (Path) the contact is reached through it
				// FreeSWITCH without aggressive-nat-detection: a contact address other than the
				// source address means NAT; a port difference alone does not.
				if a, err := netip.ParseAddr(ch.Address.Host); err == nil && a.Unmap() != src.Addr() {
					nat = true
				}
			}
			reg := &Registration{CallID: callID, User: user, Host: domain, Profile: p.cfg.Name, Contact: cv,
				ContactURI: curi, Expires: time.Now().Add(time.Duration(exp) * time.Second),
				NetworkIP: src.Addr().String(), NetworkPort: int(src.Port()), Transport: transport,
				UserAgent: ua, AuthUser: authUser, Realm: realm, NAT: nat, Path: path, Node: p.ep.nodeName()}
			p.ep.regs.supersede(mreg, reg) // FreeSWITCH fires no event for these
			updated := p.ep.regs.upsert(reg)
			upd := ""
			if updated {
				upd = "true"
			}
			p.ep.publishReg("sofia::register", reg, upd)
			rc := sip.ContactHeader{Address: ch.Address, Params: sip.NewParams()}
			rc.Params.Add("expires", strconv.Itoa(exp))
			res.AppendHeader(&rc)
		}
	}
	if len(contacts) == 0 { // a query: list the bindings
		for _, reg := range p.ep.regs.lookup(user, domain) {
			res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<%s>;expires=%d", reg.ContactURI, int(time.Until(reg.Expires).Seconds()))))
		}
	}
	res.AppendHeader(sip.NewHeader("Date", time.Now().UTC().Format(time.RFC1123)))
	tx.Respond(res)
}

// authorizeRegister checks a REGISTER's digest (401 challenge, 403 for a wrong, mismatched or
// locked-out credential) and returns the authenticated username; with accept-blind-reg, the
// To user. On refusal it has responded.
func (p *Profile) authorizeRegister(req *sip.Request, tx sip.ServerTransaction, user, domain, realm string, du *xmlconf.User, src netip.AddrPort) (string, bool) {
	if p.cfg.AcceptBlindReg {
		return user, true
	}
	hdr := ""
	if h := req.GetHeader("Authorization"); h != nil {
		hdr = h.Value()
	}
	res, cred := verifyDigest(p.nonces, hdr, "REGISTER", du, realm, src.Addr())
	reason := ""
	if res == authOK && cred != nil && !strings.EqualFold(cred.Username, user) {
		res, reason = authFailed, "username-mismatch" // inbound-reg-force-matching-username
	}
	if (res == authOK || res == authFailed) && p.sec.UserLocked(user, src.Addr()) {
		res, reason = authFailed, "user-locked" // the answer a wrong password gets
	}
	switch res {
	case authMissing, authStale:
		r := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		r.AppendHeader(sip.NewHeader("WWW-Authenticate", p.nonces.challenge(realm, res == authStale, src.Addr())))
		tx.Respond(r)
		return "", false
	case authFailed:
		p.authFailure(src.Addr(), user, du, reason)
		p.publishRegFailure(req, user, domain, src)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return "", false
	}
	if p.weakCredentialRefused(du, cred.Username, cred.Realm, src, sip.REGISTER) {
		p.publishRegFailure(req, user, domain, src)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return "", false
	}
	p.sec.Success(src.Addr(), user)
	return cred.Username, true
}

func (p *Profile) publishRegFailure(req *sip.Request, user, domain string, src netip.AddrPort) {
	ev := p.ep.h.Bus.New("CUSTOM", "sofia::register_failure")
	ev.Add("profile-name", p.cfg.Name)
	ev.Add("to-user", user)
	ev.Add("to-host", domain)
	ev.Add("network-ip", src.Addr().String())
	ev.Add("network-port", strconv.Itoa(int(src.Port())))
	ev.Add("user-agent", headerValue(req, "User-Agent"))
	p.ep.h.Bus.Publish(ev)
}

// realm picks the challenge realm per challenge-realm.
func (p *Profile) realm(req *sip.Request) string {
	switch p.cfg.ChallengeRealm {
	case "", "auto_from":
		if p.cfg.ForceRegisterDomain != "" && req.Method == sip.REGISTER {
			return p.cfg.ForceRegisterDomain
		}
		return req.From().Address.Host
	case "auto_to":
		return req.To().Address.Host
	}
	return p.cfg.ChallengeRealm
}

// splitContacts splits a Contact value on commas outside quotes and angle brackets.
func splitContacts(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				depth++
			}
		case '>':
			if !quoted && depth > 0 {
				depth--
			}
		case ',':
			if !quoted && depth == 0 {
				out = append(out, strings.TrimSpace(v[start:i]))
				start = i + 1
			}
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}
