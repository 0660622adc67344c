package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// inboundCall is a dialog we answer (FreeSWITCH's inbound channel): sipgo's server side of it,
// and the INVITE server transaction until our final response.
type inboundCall struct {
	call
	ds *sipgo.DialogServerSession

	final     chan struct{} // closed once a final response went out
	finalOnce sync.Once
	finalSent bool      // under mu
	rel       *relState // under mu: reliable provisionals (prack.go)
}

var _ core.Leg = (*inboundCall)(nil)

// newInboundCall binds the dialog ds to a new inbound call.
func newInboundCall(p *Profile, ds *sipgo.DialogServerSession) *inboundCall {
	c := &inboundCall{ds: ds, final: make(chan struct{})}
	c.p, c.in, c.answeredC = p, c, make(chan struct{})
	return c
}

// Indicate implements core.Leg: before the answer, respond and redirect are final responses
// to the INVITE; the rest is the dialog's (call.Indicate).
func (c *inboundCall) Indicate(ctx context.Context, ind core.Indication) error {
	switch ind.Kind {
	case "respond":
		return c.respond(ctx, ind.Code, ind.Data, nil)
	case "redirect":
		if c.isAnswered() {
			break
		}
		uri := strings.Trim(strings.TrimSpace(ind.Data), "<>")
		if !validHeaderValue(uri) || uri == "" {
			return errHeaderValue
		}
		if !strings.Contains(uri, ":") {
			uri = "sip:" + uri
		}
		return c.respond(ctx, 302, "Moved Temporarily", []sip.Header{sip.NewHeader("Contact", "<"+uri+">")})
	}
	return c.call.Indicate(ctx, ind)
}

// Progress implements core.Leg for inbound calls (180, or 183 with SDP).
func (c *inboundCall) Progress(ctx context.Context, withMedia bool) error {
	// Progress, Answer, respond and Hangup all run on the session goroutine (core's Leg
	// contract; originate hands B-legs' 180/183 to it), so a provisional never races the final.
	c.mu.Lock()
	if c.finalSent {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if withMedia && c.port != nil {
		if err := c.renegotiate(); err != nil {
			c.s.Log().Warn("early media: codec/SRTP settings not acceptable for the offer", "err", err)
			setOutcome(c.s, core.Outcome{Proto: sipProto(488)})
			c.s.Hangup(core.CauseIncompatibleDestination)
			return err
		}
		c.mu.Lock()
		body := c.localSDP
		c.early, c.sdpSent = true, true
		c.mu.Unlock()
		res := sip.NewResponseFromRequest(c.ds.InviteRequest, 183, "Session Progress", body)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		c.armWebRTC()
		return c.writeProvisional(res) // reliably with 100rel (prack.go)
	}
	return c.writeProvisional(sip.NewResponseFromRequest(c.ds.InviteRequest, 180, "Ringing", nil))
}

// Answer implements core.Leg: 200 OK with our SDP; returns once the ACK arrived.
func (c *inboundCall) Answer(ctx context.Context) error {
	if err := c.renegotiate(); err != nil {
		// The dialplan's codec or SRTP settings rule out the offer: 488, as FreeSWITCH does.
		c.s.Log().Warn("answer: codec/SRTP settings not acceptable for the offer", "err", err)
		setOutcome(c.s, core.Outcome{Proto: sipProto(488)})
		c.s.Hangup(core.CauseIncompatibleDestination)
		return err
	}
	c.mu.Lock()
	if c.finalSent {
		c.mu.Unlock()
		return core.ErrHungUp
	}
	c.finalSent = true
	c.answered = true
	var body []byte
	if c.port != nil {
		body = c.localSDP
		c.sdpSent = true
	}
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(c.ds.InviteRequest, 200, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		c.armWebRTC()
	}
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	if sup := c.p.supportedHeader(); sup != "" {
		res.AppendHeader(sip.NewHeader("Supported", sup))
	}
	refresh := c.sessionTimerAnswer(res) // sessiontimer.go
	c.beforeFinal(true)                  // waits for the PRACK of a reliable 18x (prack.go)
	close(c.answeredC)
	if c.port != nil {
		c.port.SetDTMFGate(c.s.HasDTMFHook, c.s.DeliverDTMF)
	}
	// The INVITE handler (and so the server transaction) lives until markFinal: only after the
	// 2xx went out and was ACKed.
	err := c.ds.WriteResponse(res)
	c.markFinal()
	if err != nil && c.ended.Load() {
		return nil // the caller hung up (BYE) before its ACK reached us
	}
	if err != nil {
		c.s.Log().Warn("answer not acknowledged", "err", err)
		setOutcome(c.s, core.Outcome{Disposition: "send_bye"})
		c.s.Hangup(core.CauseRecoveryOnTimerExpire)
		return err
	}
	c.startSessionTimer(refresh)
	return nil
}

// Hangup implements core.Leg: a final response before answer, BYE after, CANCEL for an
// unanswered outbound leg.
func (c *inboundCall) Hangup(ctx context.Context, cause core.Cause) error {
	if c.ended.Swap(true) {
		return nil
	}
	defer c.stopSessionTimer()
	s := c.s
	c.mu.Lock()
	answered, final := c.answered, c.finalSent
	c.finalSent = true
	c.mu.Unlock()
	if !answered {
		if final {
			return nil
		}
		code := cause.SIPStatus()
		if v := s.Var("last_bridge_proto_specific_hangup_cause"); strings.HasPrefix(v, "sip:") && !core.True(s.Var("sip_ignore_remote_cause")) {
			if n, err := strconv.Atoi(v[4:]); err == nil && n >= 300 && n < 700 {
				code = n
			}
		}
		var out core.Outcome
		if held := s.Outcome(); held.Proto == "" || held.Disposition == "" {
			if held.Proto == "" {
				out.Proto = sipProto(code)
			}
			if held.Disposition == "" {
				out.Disposition = "send_refuse"
			}
			setOutcome(s, out)
		}
		var hdrs []sip.Header
		if !core.True(s.Var("disable_q850_reason")) {
			hdrs = append(hdrs, reasonHeader(cause))
		}
		select {
		case <-c.ds.Context().Done():
			c.markFinal()
			return nil // cancelled: the transaction already answered 487
		default:
		}
		c.sendFinal(code, statusText(code), hdrs)
		return nil
	}
	if s.Outcome().Disposition != "" {
		return nil // the far end sent BYE
	}
	setOutcome(s, core.Outcome{Disposition: "send_bye"})
	bye := sip.NewRequest(sip.BYE, c.ds.InviteRequest.Contact().Address)
	bye.SetTransport(c.ds.InviteRequest.Transport())
	if !core.True(s.Var("disable_q850_reason")) {
		bye.AppendHeader(reasonHeader(cause))
	}
	return c.ds.WriteBye(ctx, bye)
}

func (c *inboundCall) markFinal() { c.finalOnce.Do(func() { close(c.final) }) }

// respond sends a response chosen by the dialplan (respond app) on an unanswered inbound call:
// 1xx as progress, 2xx as answer, anything else as the final response.
func (c *inboundCall) respond(ctx context.Context, code int, reason string, hdrs []sip.Header) error {
	if c.isAnswered() {
		return nil
	}
	switch {
	case code == 180:
		return c.Progress(ctx, false)
	case code == 183:
		return c.Progress(ctx, true)
	case code >= 200 && code < 300:
		return c.Answer(ctx)
	case code < 300 || code > 699:
		return fmt.Errorf("sip: cannot respond %d", code)
	}
	if reason == "" || !validHeaderValue(reason) {
		reason = statusText(code)
	}
	c.mu.Lock()
	if c.finalSent {
		c.mu.Unlock()
		return nil
	}
	c.finalSent = true
	c.mu.Unlock()
	setOutcome(c.s, core.Outcome{Proto: sipProto(code), Disposition: "send_refuse"})
	c.sendFinal(code, reason, hdrs)
	return nil
}

// sendFinal sends a non-2xx final response without blocking the session goroutine: sipgo waits
// for the ACK (or timer H) inside Respond; the INVITE handler stays alive until then.
func (c *inboundCall) sendFinal(code int, reason string, hdrs []sip.Header) {
	go func() {
		defer c.markFinal()
		c.beforeFinal(false)
		if err := c.ds.Respond(code, reason, nil, hdrs...); err != nil {
			c.p.log.Debug("final response", "code", code, "err", err)
		}
	}()
}
