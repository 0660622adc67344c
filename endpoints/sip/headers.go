package sip

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// errHeaderValue is returned for header names or values a dialplan variable must not inject.
var errHeaderValue = errors.New("sip: header name or value not allowed")

// validHeaderName accepts RFC 3261 token characters only.
func validHeaderName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue refuses CR, LF and other control bytes (CRLF injection, GHSA-chcx-pf5f-wxc7).
func validHeaderValue(v string) bool {
	if len(v) > 4096 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// customHeaders turns sip_h_X-Foo=bar variables into headers, refusing unsafe ones. Names that
// would change routing or dialog state are never taken from variables.
func customHeaders(vars [][2]string) ([]sip.Header, error) {
	var out []sip.Header
	var bad error
	for _, kv := range vars {
		name, ok := strings.CutPrefix(kv[0], "sip_h_")
		if !ok {
			continue
		}
		if !validHeaderName(name) || !validHeaderValue(kv[1]) || reservedHeader(name) {
			bad = errHeaderValue
			continue
		}
		out = append(out, sip.NewHeader(name, kv[1]))
	}
	return out, bad
}

var reserved = []string{"via", "from", "to", "call-id", "cseq", "contact", "content-length", "content-type",
	"max-forwards", "route", "record-route", "v", "f", "t", "i", "m", "l", "c", "authorization", "proxy-authorization"}

func reservedHeader(n string) bool {
	for _, r := range reserved {
		if strings.EqualFold(r, n) {
			return true
		}
	}
	return false
}

// parseTarget parses the URI part of a sofia dial string: "sip:1000@host:port;transport=tcp",
// "1000@host[:port][;transport=..]" or "host".
func parseTarget(s string) (sip.Uri, error) {
	s = strings.TrimSpace(s)
	if s == "" || !validHeaderValue(s) || strings.ContainsAny(s, " <>\"") {
		return sip.Uri{}, errors.New("sip: bad target")
	}
	if !strings.HasPrefix(strings.ToLower(s), "sip:") && !strings.HasPrefix(strings.ToLower(s), "sips:") {
		s = "sip:" + s
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return sip.Uri{}, err
	}
	if u.Host == "" {
		return sip.Uri{}, errors.New("sip: target without host")
	}
	return u, nil
}

// reasonCause reads "Reason: Q.850;cause=16;text=..." and returns the cause code.
func reasonCause(v string) (int, bool) {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		proto, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(proto), "Q.850") && !strings.EqualFold(strings.TrimSpace(proto), "FreeSWITCH") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "cause") {
				n := 0
				for _, c := range val {
					if c < '0' || c > '9' {
						return 0, false
					}
					n = n*10 + int(c-'0')
					if n > 1000 {
						return 0, false
					}
				}
				return n, val != ""
			}
		}
	}
	return 0, false
}

// headerGetter is a request or a response.
type headerGetter interface{ GetHeader(string) sip.Header }

// headerValue is the value of m's first header called name, or "".
func headerValue(m headerGetter, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// reasonHeader renders FreeSWITCH's Reason for a cause.
func reasonHeader(cause core.Cause) sip.Header {
	q := cause.Q850()
	return sip.NewHeader("Reason", fmt.Sprintf("Q.850;cause=%d;text=\"%s\"", q, cause.String()))
}
