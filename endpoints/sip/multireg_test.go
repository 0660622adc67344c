package sip

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// registerPhone registers 1001 (password 1234) from ph's socket with its own address as the
// contact, answering the 401 as a phone does, and returns the final response.
func registerPhone(t *testing.T, ph *rawUA, callID string, expires int) string {
	t.Helper()
	msg := func(cseq int, auth string) string {
		return fmt.Sprintf("REGISTER sip:127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s-%d-%d;rport\nFrom: <sip:1001@127.0.0.1>;tag=mr%d\nTo: <sip:1001@127.0.0.1>\nCall-ID: %s\nCSeq: %d REGISTER\nContact: <sip:1001@127.0.0.1:%d>\nExpires: %d\nMax-Forwards: 70\n%sContent-Length: 0\n\n",
			ph.port(), callID, cseq, time.Now().UnixNano(), ph.port(), callID, cseq, ph.port(), expires, auth)
	}
	ph.send(msg(1, ""))
	res := ph.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 401") {
		t.Fatalf("REGISTER without credentials: %q", res)
	}
	chal, err := digest.ParseChallenge(header(res, "WWW-Authenticate"))
	if err != nil {
		t.Fatalf("challenge: %v in\n%s", err, res)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "1001", Password: "1234", Cnonce: "abc", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	ph.send(msg(2, "Authorization: "+cred.String()+"\n"))
	res = ph.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("REGISTER %s from port %d: %q", callID, ph.port(), res)
	}
	return res
}

// ringedPhones calls user/1001; every phone that gets the INVITE answers 486. It returns
// which phones were rung.
func ringedPhones(t *testing.T, env *testEnv, phones ...*rawUA) []bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Second)
	defer cancel()
	done := make(chan struct{})
	var mu sync.Mutex
	got := make([]bool, len(phones))
	var wg sync.WaitGroup
	for i, ph := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				m := ph.recv(50 * time.Millisecond)
				if !strings.HasPrefix(m, "INVITE ") {
					continue
				}
				mu.Lock()
				got[i] = true
				mu.Unlock()
				var b strings.Builder
				b.WriteString("SIP/2.0 486 Busy Here\r\n")
				for _, l := range strings.Split(m, "\r\n") {
					k, _, _ := strings.Cut(l, ":")
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "via", "from", "call-id", "cseq":
						b.WriteString(l + "\r\n")
					case "to":
						b.WriteString(l + ";tag=busy\r\n")
					}
				}
				b.WriteString("Content-Length: 0\r\n\r\n")
				ph.conn.WriteToUDPAddrPort([]byte(b.String()), ph.dst)
			}
		}()
	}
	_, err := env.h.Originate(ctx, "user/1001@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
	close(done)
	wg.Wait()
	if err == nil {
		t.Fatal("the call to user/1001 was answered")
	}
	if ctx.Err() != nil {
		t.Fatalf("the call to user/1001 did not end when every rung phone refused it: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// regListing returns `show registrations` and `sofia status profile <profile> reg`.
func regListing(t *testing.T, env *testEnv, profile string) (show, status string) {
	t.Helper()
	show, err := env.h.APIOutput(t.Context(), "show", "registrations")
	if err != nil {
		t.Fatal(err)
	}
	status, err = env.h.APIOutput(t.Context(), "sofia", "status profile "+profile+" reg")
	if err != nil {
		t.Fatal(err)
	}
	return show, status
}

// wantRegs checks that exactly the phones in want (and no other of all) are listed as
// registered on profile, by both listings.
func wantRegs(t *testing.T, env *testEnv, profile string, all []*rawUA, want ...*rawUA) {
	t.Helper()
	show, status := regListing(t, env, profile)
	if !strings.Contains(status, fmt.Sprintf("Total items returned: %d\n", len(want))) {
		t.Errorf("sofia status profile %s reg: want %d registrations, got\n%s", profile, len(want), status)
	}
	if !strings.Contains(show, fmt.Sprintf("%d total.", len(want))) {
		t.Errorf("show registrations: want %d rows, got\n%s", len(want), show)
	}
	for _, ph := range all {
		c := fmt.Sprintf("sip:1001@127.0.0.1:%d", ph.port())
		listed := false
		for _, w := range want {
			listed = listed || w == ph
		}
		if strings.Contains(show, c) != listed || strings.Contains(status, c) != listed {
			t.Errorf("contact %s: want listed=%v; show registrations:\n%s\nsofia status:\n%s", c, listed, show, status)
		}
	}
}

// TestMultipleRegistrationsUnset: without multiple-registrations (the external test profile
// does not set it, as vanilla FreeSWITCH leaves it commented out) a user keeps one registration
// per profile: phone B's REGISTER replaces phone A's, only B rings, and B's unregister leaves none.
func TestMultipleRegistrationsUnset(t *testing.T) {
	env := newEnv(t, envOpt{})
	prof := env.addr(t, "external")
	a, b := newRawUA(t, prof), newRawUA(t, prof)
	registerPhone(t, a, "mr-unset-a", 300)
	registerPhone(t, b, "mr-unset-b", 300)
	wantRegs(t, env, "external", []*rawUA{a, b}, b)
	if got := ringedPhones(t, env, a, b); got[0] || !got[1] {
		t.Errorf("rung (A, B) = %v, want only B", got)
	}
	registerPhone(t, b, "mr-unset-b", 0)
	wantRegs(t, env, "external", []*rawUA{a, b})
}

// TestMultipleRegistrationsContact: multiple-registrations=contact (the internal test profile)
// keeps one registration per contact: both phones stay and both ring; A's unregister leaves B.
func TestMultipleRegistrationsContact(t *testing.T) {
	env := newEnv(t, envOpt{})
	prof := env.addr(t, "internal")
	a, b := newRawUA(t, prof), newRawUA(t, prof)
	registerPhone(t, a, "mr-contact-a", 300)
	registerPhone(t, b, "mr-contact-b", 300)
	registerPhone(t, b, "mr-contact-b2", 300) // the same contact with another Call-ID: still one
	wantRegs(t, env, "internal", []*rawUA{a, b}, a, b)
	if got := ringedPhones(t, env, a, b); !got[0] || !got[1] {
		t.Errorf("rung (A, B) = %v, want both", got)
	}
	registerPhone(t, a, "mr-contact-a", 0)
	wantRegs(t, env, "internal", []*rawUA{a, b}, b)
}

// TestMultipleRegistrationsTrue: multiple-registrations=true keeps one registration per
// Call-ID: A and B (distinct Call-IDs) both stay; a re-REGISTER with A's Call-ID from contact C
// replaces A; an unregister with B's Call-ID removes B.
func TestMultipleRegistrationsTrue(t *testing.T) {
	env := newEnv(t, envOpt{internalExtra: `<param name="multiple-registrations" value="true"/>`})
	prof := env.addr(t, "internal")
	a, b, c := newRawUA(t, prof), newRawUA(t, prof), newRawUA(t, prof)
	all := []*rawUA{a, b, c}
	registerPhone(t, a, "mr-true-1", 300)
	registerPhone(t, b, "mr-true-2", 300)
	wantRegs(t, env, "internal", all, a, b)
	registerPhone(t, c, "mr-true-1", 300)
	wantRegs(t, env, "internal", all, b, c)
	if got := ringedPhones(t, env, a, b, c); got[0] || !got[1] || !got[2] {
		t.Errorf("rung (A, B, C) = %v, want B and C", got)
	}
	registerPhone(t, b, "mr-true-2", 0)
	wantRegs(t, env, "internal", all, c)
}

func TestParseMultiReg(t *testing.T) {
	for v, want := range map[string]MultiReg{"": MultiRegOff, "false": MultiRegOff, "contact": MultiRegContact,
		"Contact": MultiRegContact, "true": MultiRegCallID, "yes": MultiRegCallID} {
		if got := parseMultiReg(v); got != want {
			t.Errorf("parseMultiReg(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestMultiRegPerUser: sip-allow-multiple-registrations=false on a user (param or variable)
// turns the profile's multiple registrations off for that user, as sofia's avoid_multi_reg.
func TestMultiRegPerUser(t *testing.T) {
	p := &Profile{cfg: ProfileConfig{MultipleRegistrations: MultiRegContact}}
	no := []xmlconf.KV{{Name: "sip-allow-multiple-registrations", Value: "false"}}
	yes := []xmlconf.KV{{Name: "sip-allow-multiple-registrations", Value: "true"}}
	for _, c := range []struct {
		u    *xmlconf.User
		want MultiReg
	}{{nil, MultiRegContact}, {&xmlconf.User{}, MultiRegContact}, {&xmlconf.User{Params: no}, MultiRegOff},
		{&xmlconf.User{Vars: no}, MultiRegOff}, {&xmlconf.User{Params: yes}, MultiRegContact}} {
		if got := p.multiRegFor(c.u); got != c.want {
			t.Errorf("multiRegFor(%+v) = %v, want %v", c.u, got, c.want)
		}
	}
}
