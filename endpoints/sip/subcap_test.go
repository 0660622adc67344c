package sip

import (
	"strconv"
	"testing"
)

// The per-subscriber cap counts the authenticated user (else the source address), not the From
// header: a subscriber that writes a new From user on every SUBSCRIBE still hits its cap.
func TestSubscriptionCapIgnoresFrom(t *testing.T) {
	ss := &subscriptions{m: map[string]*Subscription{}}
	for i := 0; i < maxSubscriptionsPerUser; i++ {
		n := strconv.Itoa(i)
		ss.m[n] = &Subscription{User: "forged" + n, Host: "example.com", AuthUser: "1000", NetworkIP: "192.0.2.1"}
	}
	if !ss.full("user:1000") {
		t.Error("1000 past its cap with a different From user on each subscription")
	}
	if ss.full("user:1001") || ss.full("ip:192.0.2.1") {
		t.Error("another subscriber must not be capped by 1000's subscriptions")
	}
	ss.m["anon"] = &Subscription{User: "x", Host: "example.com", NetworkIP: "198.51.100.7"}
	if got := ss.m["anon"].subscriber(); got != "ip:198.51.100.7" {
		t.Errorf("unauthenticated subscriber key %q", got)
	}
}
