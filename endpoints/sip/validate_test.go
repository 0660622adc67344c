package sip

import (
	"net"
	"strings"
	"testing"
)

func TestTightenParams(t *testing.T) {
	for in, want := range map[string]string{
		` "J \"R\" ; x = y" <sip:a@b;lr> ; tag = 1`:                  ` "J \"R\" ; x = y" <sip:a@b;lr>;tag=1`,
		` SIP/2.0/UDP [::1]:5060 ; branch= z9hG4bKx , SIP/2.0/TCP h`: ` SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx , SIP/2.0/TCP h`,
		` <sip:a@b>;expires=60`:                                      ` <sip:a@b>;expires=60`,
		` Alice Smith <sip:a@b>`:                                     ` Alice Smith <sip:a@b>`,
	} {
		if got := tightenParams(in); got != want {
			t.Errorf("tightenParams(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeHeadersKeepsBody(t *testing.T) {
	body := "v=0\r\n folded-looking body line\r\n"
	msg := "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5060\r\nFrom: A <sip:a@b>\r\n  ;tag = 1\r\nTo: <sip:b@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 30\r\n\r\n" + body
	out := string(normalizeHeaders([]byte(msg)))
	if !strings.HasSuffix(out, "\r\n\r\n"+body) || !strings.Contains(out, "From: A <sip:a@b>;tag=1\r\n") {
		t.Errorf("normalised:\n%s", out)
	}
	// From has a tag now, so no RFC 2543 branch is invented.
	if strings.Contains(out, "z9hG4bK2543") {
		t.Errorf("branch added:\n%s", out)
	}
	plain := "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\n\r\n"
	if got := string(normalizeHeaders([]byte(plain))); got != plain {
		t.Errorf("rewrote a plain message:\n%s", got)
	}
}

func TestRawRejectDestination(t *testing.T) {
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	bad := "INVITE  sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKr\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: r\r\nCSeq: 1 INVITE\r\n\r\n"
	res, dst := rawReject([]byte(bad), src)
	if !strings.HasPrefix(string(res), "SIP/2.0 400 ") || dst.String() != "127.0.0.1:5070" || !strings.Contains(string(res), "To: <sip:a@b>;tag=") {
		t.Errorf("400 to %v:\n%s", dst, res)
	}
	_, dst = rawReject([]byte(strings.Replace(bad, ";branch", ";rport;branch", 1)), src)
	if dst.String() != "127.0.0.1:40000" {
		t.Errorf("rport: %v", dst)
	}
	if res, _ := rawReject([]byte("From: \"Ünïcode\" <sip:a@b>\r\n\r\n"), src); res != nil {
		t.Errorf("not a request: %s", res)
	}
	ok := strings.Replace(bad, "INVITE  sip", "INVITE sip", 1)
	ok = strings.Replace(ok, "From: <sip:a@b>", "From: Ünïcode Name <sip:a@b>", 1)
	if res, _ := rawReject([]byte(ok), src); res != nil {
		t.Errorf("valid request refused: %s", res)
	}
}
