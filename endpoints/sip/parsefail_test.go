package sip

import (
	"net"
	"strings"
	"testing"
	"time"
)

// A datagram the quick raw check lets through but sipgo cannot parse (a CSeq without a number)
// still gets its 400, answered after sipgo's parse failed, from the read filter's copy.
func TestUnparseableAnsweredAfterSipgoParse(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()
	msg := strings.Replace(u.request("OPTIONS", target, "pf1", 1, "", ""), "CSeq: 1 OPTIONS", "CSeq: one OPTIONS", 1)
	wire := []byte(strings.ReplaceAll(msg, "\n", "\r\n"))
	if res, dst := quickReject(wire, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: u.port()}); res != nil || dst != nil {
		t.Fatalf("the quick check already refuses it: %q", res)
	}
	u.send(msg)
	if res := u.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 400") || header(res, "Call-ID") != "pf1" {
		t.Fatalf("unparseable CSeq: %q", res)
	}
	// The profile goes on: a good request right after is answered as usual.
	u.send(u.request("OPTIONS", target, "pf2", 1, "", ""))
	if res := u.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("OPTIONS after: %q", res)
	}
}
