package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// retryMinSE answers a 422 Session Interval Too Small to our INVITE as RFC 4028 §7.4 (and
// sofia-sip under FreeSWITCH) do: the INVITE goes again, once, with Session-Expires and Min-SE
// raised to the peer's Min-SE, a new CSeq and a new branch. It reports whether it resent.
func (c *outboundCall) retryMinSE(ctx context.Context, err error) bool {
	var pe *sipgo.ErrDialogResponse
	if !errors.As(err, &pe) || pe.Res == nil || pe.Res.StatusCode != 422 || ctx.Err() != nil {
		return false
	}
	req := c.dc.InviteRequest
	min := headerSeconds(pe.Res, "Min-SE")
	if min <= 0 || min <= headerSeconds(req, "Session-Expires") {
		return false // nothing to raise: the peer's demand cannot be met by a retry
	}
	v := strconv.Itoa(min)
	setHeader(req, "Session-Expires", v)
	setHeader(req, "Min-SE", v)
	req.RemoveHeader("Via") // the transaction layer adds a new one with a new branch
	if cseq := req.CSeq(); cseq != nil {
		cseq.SeqNo++
	}
	c.s.Log().Info("422 Session Interval Too Small: INVITE again", "session_expires", min)
	if err := c.dc.Invite(ctx); err != nil {
		c.s.Log().Warn("INVITE after 422 failed", "err", err)
		return false
	}
	return true
}

// headerSeconds reads the delta-seconds of a Session-Expires or Min-SE header (0 if absent).
func headerSeconds(m interface{ GetHeader(string) sip.Header }, name string) int {
	h := m.GetHeader(name)
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, _ := strconv.Atoi(strings.TrimSpace(v))
	return n
}

// setHeader replaces every header called name with one of value v.
func setHeader(req *sip.Request, name, v string) {
	req.RemoveHeader(name)
	req.AppendHeader(sip.NewHeader(name, v))
}
