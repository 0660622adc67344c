package sip

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// nonceCache issues digest nonces and checks their age and nonce-count (RFC 7616 3.3: a
// replayed or decreasing nc is refused). One per profile.
type nonceCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*nonceState
	n   int
}

type nonceState struct {
	issued time.Time
	nc     int
	src    netip.Addr // the address the challenge went to: only it may answer it
}

func newNonceCache(ttl time.Duration) *nonceCache {
	if ttl <= 0 {
		ttl = 60 * time.Second
	}
	return &nonceCache{ttl: ttl, m: map[string]*nonceState{}}
}

func (c *nonceCache) issue(src netip.Addr) string {
	var b [16]byte
	rand.Read(b[:])
	n := hex.EncodeToString(b[:])
	now := time.Now()
	c.mu.Lock()
	c.m[n] = &nonceState{issued: now, src: src}
	c.n++
	if c.n%256 == 0 { // sweep expired nonces now and then
		for k, v := range c.m {
			if now.Sub(v.issued) > 2*c.ttl {
				delete(c.m, k)
			}
		}
	}
	c.mu.Unlock()
	return n
}

// check validates a nonce and its count: (known, stale). A nonce answered from another address
// than the one it was issued to is stale: the answer gets a fresh challenge, not a failure, so a
// forged source address cannot run up another address's failure count (and get it banned), and a
// nonce seen from one address cannot be replayed from a forged one.
func (c *nonceCache) check(nonce string, nc int, qop bool, src netip.Addr) (ok, stale bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, found := c.m[nonce]
	if !found || st.src != src {
		return false, true
	}
	if time.Since(st.issued) > c.ttl {
		delete(c.m, nonce)
		return false, true
	}
	if qop {
		if nc <= st.nc {
			return false, false
		}
		st.nc = nc
	}
	return true, false
}

// authResult says how a request authenticated.
type authResult int

const (
	authMissing authResult = iota // no credentials: challenge
	authOK
	authFailed // wrong password, unknown user: 403
	authStale  // expired nonce: challenge with stale=true
)

// verifyDigest checks credentials from an Authorization/Proxy-Authorization header against the
// directory user (password or a1-hash). realm is the realm we challenged with.
// src is the request's source address (see nonceCache.check).
func verifyDigest(nonces *nonceCache, hdr, method string, user *xmlconf.User, realm string, src netip.Addr) (authResult, *digest.Credentials) {
	if scheme, _, _ := strings.Cut(strings.TrimSpace(hdr), " "); hdr == "" || !strings.EqualFold(scheme, "Digest") {
		return authMissing, nil // none, or a scheme we do not know: challenge (RFC 4475 regaut01)
	}
	cred, err := digest.ParseCredentials(hdr)
	if err != nil {
		// Unparseable credentials prove nothing about a password: challenge again rather than
		// count a failure, which costs a forged packet nothing.
		return authMissing, nil
	}
	ok, stale := nonces.check(cred.Nonce, cred.Nc, cred.QOP != "", src)
	if stale {
		return authStale, cred
	}
	if !ok || user == nil {
		return authFailed, cred
	}
	alg := cred.Algorithm
	if alg != "" && !strings.EqualFold(alg, "MD5") {
		return authFailed, cred
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	opts := digest.Options{Method: method, URI: cred.URI, Username: cred.Username, Password: user.Param("password"), Cnonce: cred.Cnonce, Count: cred.Nc}
	if a1 := user.Param("a1-hash"); a1 != "" {
		opts.A1 = a1
	}
	want, err := digest.Digest(chal, opts)
	if err != nil {
		return authFailed, cred
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(want.Response)), []byte(strings.ToLower(cred.Response))) != 1 {
		return authFailed, cred
	}
	_ = realm
	return authOK, cred
}

func (c *nonceCache) challenge(realm string, stale bool, src netip.Addr) string {
	ch := digest.Challenge{Realm: realm, Nonce: c.issue(src), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return ch.String()
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func parseCredUser(hdr string) (string, error) {
	i := strings.Index(strings.ToLower(hdr), "username=")
	if i < 0 {
		return "", errors.New("no username")
	}
	v := hdr[i+len("username="):]
	if strings.HasPrefix(v, "\"") {
		v = v[1:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j], nil
		}
		return "", errors.New("bad username")
	}
	if j := strings.IndexAny(v, ", "); j >= 0 {
		v = v[:j]
	}
	return v, nil
}

// inviteAuth is who authorizeInvite found an INVITE's sender to be.
type inviteAuth struct {
	aclOK    bool          // an inbound-acl list allowed the source
	aclBy    string        // that list's name
	user     *xmlconf.User // the directory user: the digest's, or the ACL entry's token
	username string        // the digest username ("" when the ACL let the call in)
	realm    string        // the digest realm
}

// authorizeInvite lets an INVITE in by the profile's inbound ACLs or, with auth-calls, by digest
// (407 challenge, 403 for a wrong or locked-out credential). On refusal it has responded.
func (p *Profile) authorizeInvite(req *sip.Request, tx sip.ServerTransaction, src netip.AddrPort) (inviteAuth, bool) {
	var az inviteAuth
	set := p.ep.ACL()
	for _, l := range p.cfg.InboundACL {
		r := set.CheckToken(l, src.Addr())
		if r.Allowed {
			az.aclOK = true
			az.aclBy = l
			if r.Token != "" {
				az.user = p.ep.h.Config().Directory().User(r.Token, r.Domain)
			}
			break
		}
	}
	if az.aclOK || !(p.cfg.AuthCalls || len(p.cfg.InboundACL) > 0) {
		return az, true
	}
	if !p.cfg.AuthCalls {
		p.failedIn.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return az, false
	}
	realm := p.realm(req)
	az.realm = realm
	hdr := headerValue(req, "Proxy-Authorization")
	var du *xmlconf.User
	var username string
	if hdr != "" {
		if cr, err := parseCredUser(hdr); err == nil {
			username = cr
			du = p.ep.h.Config().Directory().User(cr, realm)
			if du == nil {
				du = p.ep.h.Config().Directory().User(cr, req.From().Address.Host)
			}
		}
	}
	res, _ := verifyDigest(p.nonces, hdr, "INVITE", du, realm, src.Addr())
	reason := ""
	if (res == authOK || res == authFailed) && p.sec.UserLocked(username, src.Addr()) {
		res, reason = authFailed, "user-locked" // the answer a wrong password gets
	}
	switch res {
	case authMissing, authStale:
		r := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
		r.AppendHeader(sip.NewHeader("Proxy-Authenticate", p.nonces.challenge(realm, res == authStale, src.Addr())))
		p.challenged.remember(req, r)
		tx.Respond(r)
		return az, false
	case authFailed:
		p.authFailure(src.Addr(), username, du, reason)
		p.failedIn.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return az, false
	}
	if p.weakCredentialRefused(du, username, realm, src, sip.INVITE) {
		p.failedIn.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return az, false
	}
	p.sec.Success(src.Addr(), username)
	az.user, az.username = du, username
	return az, true
}
