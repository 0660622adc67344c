package sip

import (
	"context"
	"strconv"

	"github.com/emiago/sipgo/sip"
)

// retryMinSE answers a 422 Session Interval Too Small to our INVITE as RFC 4028 §7.4 (and
// sofia-sip under FreeSWITCH) do: the INVITE goes again, once, with Session-Expires and Min-SE
// raised to the peer's Min-SE, a new CSeq and a new branch. It reports whether it resent.
func (c *outboundCall) retryMinSE(ctx context.Context, err error) bool {
	res := finalResponse(err)
	if res == nil || res.StatusCode != 422 || ctx.Err() != nil {
		return false
	}
	req := c.dc.InviteRequest
	min, _ := sessionExpires(headerValue(res, "Min-SE"))
	if cur, _ := sessionExpires(headerValue(req, "Session-Expires")); min <= cur {
		return false // nothing to raise (or no Min-SE): a retry could not meet the demand
	}
	v := strconv.Itoa(int(min.Seconds()))
	for _, name := range []string{"Session-Expires", "Min-SE"} {
		req.RemoveHeader(name)
		req.AppendHeader(sip.NewHeader(name, v))
	}
	req.RemoveHeader("Via") // the transaction layer adds a new one with a new branch
	if cseq := req.CSeq(); cseq != nil {
		cseq.SeqNo++
	}
	c.s.Log().Info("422 Session Interval Too Small: INVITE again", "session_expires", v)
	if err := c.dc.Invite(ctx); err != nil {
		c.s.Log().Warn("INVITE after 422 failed", "err", err)
		return false
	}
	return true
}
