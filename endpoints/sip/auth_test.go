package sip

import (
	"net/netip"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/goswitch/goswitch/core/xmlconf"
)

func credFor(t *testing.T, nonce, realm, user, pass, uri string, nc int) string {
	chal := &digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}}
	cr, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: user, Password: pass, Count: nc, Cnonce: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	return cr.String()
}

func TestDigestVerify(t *testing.T) {
	nc := newNonceCache(time.Minute)
	src := netip.MustParseAddr("192.0.2.10")
	user := &xmlconf.User{ID: "1000", Params: []xmlconf.KV{{Name: "password", Value: "1234"}}}
	hashed := &xmlconf.User{ID: "1002", Params: []xmlconf.KV{{Name: "a1-hash", Value: md5hex("1002:example.com:secret")}}}
	n := nc.issue(src)
	if r, _ := verifyDigest(nc, "", "REGISTER", user, "example.com", src); r != authMissing {
		t.Errorf("no header: %v", r)
	}
	h := credFor(t, n, "example.com", "1000", "1234", "sip:example.com", 1)
	if r, _ := verifyDigest(nc, h, "REGISTER", user, "example.com", src); r != authOK {
		t.Errorf("good credentials: %v", r)
	}
	if r, _ := verifyDigest(nc, h, "REGISTER", user, "example.com", src); r != authFailed {
		t.Errorf("replayed nc accepted: %v", r)
	}
	h2 := credFor(t, n, "example.com", "1000", "1234", "sip:example.com", 2)
	if r, _ := verifyDigest(nc, h2, "REGISTER", user, "example.com", src); r != authOK {
		t.Errorf("next nc: %v", r)
	}
	bad := credFor(t, n, "example.com", "1000", "wrong", "sip:example.com", 3)
	if r, _ := verifyDigest(nc, bad, "REGISTER", user, "example.com", src); r != authFailed {
		t.Errorf("wrong password: %v", r)
	}
	n2 := nc.issue(src)
	ha := credFor(t, n2, "example.com", "1002", "secret", "sip:example.com", 1)
	if r, _ := verifyDigest(nc, ha, "REGISTER", hashed, "example.com", src); r != authOK {
		t.Errorf("a1-hash user: %v", r)
	}
	unknown := credFor(t, "not-issued", "example.com", "1000", "1234", "sip:example.com", 1)
	if r, _ := verifyDigest(nc, unknown, "REGISTER", user, "example.com", src); r != authStale {
		t.Errorf("unknown nonce must be re-challenged: %v", r)
	}
	short := newNonceCache(10 * time.Millisecond)
	n3 := short.issue(src)
	time.Sleep(20 * time.Millisecond)
	hs := credFor(t, n3, "example.com", "1000", "1234", "sip:example.com", 1)
	if r, _ := verifyDigest(short, hs, "REGISTER", user, "example.com", src); r != authStale {
		t.Errorf("expired nonce: %v", r)
	}
	// A nonce answered from another address than it was issued to is re-challenged, never a
	// failure: a forged source cannot run up that address's failure count.
	n4 := nc.issue(src)
	forged := credFor(t, n4, "example.com", "1000", "wrong", "sip:example.com", 1)
	if r, _ := verifyDigest(nc, forged, "REGISTER", user, "example.com", netip.MustParseAddr("198.51.100.7")); r != authStale {
		t.Errorf("nonce from another address: %v", r)
	}
	if r, _ := verifyDigest(nc, `Digest username="x`, "REGISTER", user, "example.com", src); r != authMissing {
		t.Errorf("unparseable credentials must be re-challenged, not counted: %v", r)
	}
}
