package sip

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// supportedExt are the option tags we implement (Require of anything else gets 420).
var supportedExt = map[string]bool{"timer": true, "replaces": true}

func unsupportedRequire(req *sip.Request) string {
	var bad []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			t = strings.TrimSpace(strings.ToLower(t))
			if t != "" && !supportedExt[t] {
				bad = append(bad, t)
			}
		}
	}
	return strings.Join(bad, ", ")
}

// checkInvite refuses an initial INVITE we cannot take whoever sent it: no Contact (400), a
// spent Max-Forwards (483), or a Require we do not implement (420 with Unsupported).
func (p *Profile) checkInvite(req *sip.Request, tx sip.ServerTransaction) bool {
	if req.Contact() == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Missing Contact", nil))
		return false
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		tx.Respond(sip.NewResponseFromRequest(req, 483, "Too Many Hops", nil))
		return false
	}
	if bad := p.unsupportedRequire(req); bad != "" {
		r := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		r.AppendHeader(sip.NewHeader("Unsupported", bad))
		tx.Respond(r)
		return false
	}
	return true
}

// sessionInterval is the call's RFC 4028 session interval: the caller's Session-Expires, or
// the profile's session-timeout. An interval below our Min-SE is refused with 422.
func (p *Profile) sessionInterval(req *sip.Request, tx sip.ServerTransaction) (time.Duration, bool) {
	var sessExp time.Duration
	if v := headerValue(req, "Session-Expires"); v != "" && p.timerEnabled() {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		if n > 0 && time.Duration(n)*time.Second < p.cfg.MinSE && p.cfg.MinSE > 0 {
			r := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
			r.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(p.cfg.MinSE.Seconds()))))
			tx.Respond(r)
			return 0, false
		}
		sessExp = time.Duration(n) * time.Second
	} else if p.cfg.SessionTimeout > 0 && p.timerEnabled() {
		sessExp = p.cfg.SessionTimeout
	}
	return sessExp, true
}
