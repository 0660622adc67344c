package sip

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// outboundCall is a dialog we started with an INVITE (FreeSWITCH's outbound channel): sipgo's
// client side of it, and the INVITE client transaction until the answer.
type outboundCall struct {
	call
	dc *sipgo.DialogClientSession

	cancelInvite context.CancelFunc    // cancels WaitAnswer (sends CANCEL)
	waitDone     chan struct{}         // closed when waitAnswer returns
	inviteTx     sip.ClientTransaction // under mu: the INVITE's current client transaction (txtracker.go)
	prackRSeq    atomic.Uint32         // RSeq of the last reliable 18x we PRACKed
}

var _ core.Leg = (*outboundCall)(nil)

// newOutboundCall is the call of the outbound leg s, before its INVITE.
func newOutboundCall(p *Profile, s *core.Session) *outboundCall {
	c := &outboundCall{}
	c.p, c.s, c.out, c.answeredC = p, s, c, make(chan struct{})
	return c
}

// Progress implements core.Leg: an outbound leg receives progress, it sends none.
func (c *outboundCall) Progress(context.Context, bool) error { return nil }

// Answer implements core.Leg: an outbound leg is answered by the far end.
func (c *outboundCall) Answer(context.Context) error { return nil }

// waitAnswer owns the INVITE client transaction until a final response.
func (c *outboundCall) waitAnswer(ctx context.Context, auth outboundAuth, gw *Gateway) {
	defer close(c.waitDone)
	defer c.p.inviting.Delete(c.dc.InviteRequest.CallID().Value())
	s, p := c.s, c.p
	go func() { // the leg's session ending before answer cancels the INVITE
		select {
		case <-s.Context().Done():
			c.cancelInvite()
		case <-c.answeredC:
		case <-c.waitDone:
		}
	}()
	opts := sipgo.AnswerOptions{Username: auth.user, Password: auth.pass,
		OnResponse: func(r *sip.Response) error {
			c.prackResponse(r) // a reliable 18x (prack.go)
			switch {
			case r.StatusCode == 180 || (r.StatusCode == 183 && len(r.Body()) == 0):
				s.SignalProgress(false)
			case r.StatusCode == 183:
				if err := c.acceptAnswer(r.Body()); err == nil {
					c.mu.Lock()
					c.early = true
					c.mu.Unlock()
					c.port.SetDTMFGate(s.HasDTMFHook, s.DeliverDTMF)
					s.SignalProgress(true)
				}
			}
			return nil
		}}
	err := c.dc.WaitAnswer(ctx, opts)
	if c.retryMinSE(ctx, err) {
		err = c.dc.WaitAnswer(ctx, opts)
	}
	if err != nil {
		c.inviteFailed(ctx, err, gw)
		return
	}
	// 2xx. The dialog is keyed by our From-tag already.
	if c.s.HungUp() || c.ended.Load() {
		// Answered while we were cancelling: ACK then BYE (RFC 3261 15).
		c.dc.Ack(context.Background())
		bctx, cancel := contextTimeout(5 * time.Second)
		c.dc.Bye(bctx)
		cancel()
		p.calls.Delete(c.key)
		return
	}
	if aerr := c.acceptAnswer(c.dc.InviteResponse.Body()); aerr != nil && !c.early {
		s.Log().Warn("answer SDP refused", "err", aerr)
		c.dc.Ack(context.Background())
		c.mu.Lock()
		c.answered = true
		c.mu.Unlock()
		setOutcome(s, core.Outcome{Proto: sipProto(488)})
		s.Hangup(core.CauseIncompatibleDestination)
		return
	}
	if err := c.dc.Ack(context.Background()); err != nil {
		s.Log().Warn("ACK failed", "err", err)
	}
	c.watchForks()
	c.mu.Lock()
	c.answered = true
	c.mu.Unlock()
	close(c.answeredC)
	c.port.SetDTMFGate(s.HasDTMFHook, s.DeliverDTMF)
	setOutcome(s, core.Outcome{Proto: sipProto(200)})
	if d, ref := sessionExpires(headerValue(c.dc.InviteResponse, "Session-Expires")); d > 0 {
		if ref == "uac" {
			c.armRefresh(d) // RFC 4028: we refresh at half time
		} else {
			c.armSessionTimer(d)
		}
	}
	if gw != nil {
		gw.callsOut.Add(1)
	}
	s.SignalAnswer()
}

// inviteFailed ends the leg whose INVITE got no 2xx: a final response (its status and
// Reason give the cause), our CANCEL, or a timeout or transport error.
func (c *outboundCall) inviteFailed(ctx context.Context, err error, gw *Gateway) {
	s, p := c.s, c.p
	p.failedOut.Add(1)
	status, cause := 0, core.CauseNormalTemporaryFailure
	var out core.Outcome
	res := finalResponse(err)
	switch {
	case res != nil:
		status = res.StatusCode
		cause = core.CauseFromSIP(status)
		if v := res.GetHeader("Reason"); v != nil && !core.True(s.Var("ignore_q850_reason")) {
			s.SetVar("sip_reason", v.Value())
			if n, ok := reasonCause(v.Value()); ok {
				cause = core.Cause(n)
			}
		}
		s.SetVar("sip_invite_failure_status", strconv.Itoa(status))
		s.SetVar("sip_invite_failure_phrase", res.Reason)
		out.Phrase, out.Disposition = res.Reason, "recv_refuse"
	case ctx.Err() != nil:
		cause = core.CauseOriginatorCancel
		status = 487
		if s.Outcome().Disposition == "" {
			out.Disposition = "send_cancel"
		}
	default:
		cause, status = core.CauseRecoveryOnTimerExpire, 408
		s.Log().Warn("INVITE failed", "err", err)
		if errors.Is(err, sip.ErrTransactionTransport) {
			cause, status = core.CauseDestinationOutOfOrder, 502
		}
	}
	if status != 0 {
		out.Cause, out.Proto = cause, sipProto(status)
	}
	setOutcome(s, out)
	if gw != nil {
		gw.failedOut.Add(1)
	}
	c.ended.Store(true)
	s.Hangup(cause)
	c.dc.Close()
	p.calls.Delete(c.key)
}

// Hangup implements core.Leg: CANCEL while unanswered, BYE after.
func (c *outboundCall) Hangup(ctx context.Context, cause core.Cause) error {
	if c.ended.Swap(true) {
		return nil
	}
	defer c.stopSessionTimer()
	s := c.s
	defer c.p.calls.Delete(c.key)
	if c.dc == nil {
		c.closeMedia()
		return nil
	}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered {
		if s.Outcome().Disposition == "" {
			setOutcome(s, core.Outcome{Disposition: "send_cancel"})
		}
		c.cancelInvite()
		select {
		case <-c.waitDone:
		case <-ctx.Done():
		}
		return nil
	}
	if s.Outcome().Disposition == "recv_bye" {
		return nil
	}
	setOutcome(s, core.Outcome{Disposition: "send_bye"})
	bye := sip.NewRequest(sip.BYE, c.remoteTarget())
	if !core.True(s.Var("disable_q850_reason")) {
		bye.AppendHeader(reasonHeader(cause))
	}
	err := c.dc.WriteBye(ctx, bye)
	c.cancelInvite()
	return err
}

// finalResponse is the non-2xx final response an INVITE's WaitAnswer error carries, or nil.
func finalResponse(err error) *sip.Response {
	var pe *sipgo.ErrDialogResponse
	var ve sipgo.ErrDialogResponse
	if errors.As(err, &pe) {
		return pe.Res
	} else if errors.As(err, &ve) {
		return ve.Res
	}
	return nil
}
