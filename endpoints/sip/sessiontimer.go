package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// Session timers (RFC 4028), as FreeSWITCH's enable-timer (default on), session-timeout and
// minimum-session-expires. An INVITE below our Min-SE gets 422 (inbound.go). Whoever the
// Session-Expires names refresher refreshes every half interval; the other side ends the call
// with BYE when the interval lapses unrefreshed (armSessionTimer). We are the refresher when
// the caller asks (refresher=uas), when a caller without timer support leaves it to us, and
// on outbound legs when the answer says refresher=uac. Our refresh is an UPDATE without SDP
// when the peer allows UPDATE (RFC 4028 §7.1 recommends it: no media renegotiation), else a
// re-INVITE with our current SDP; either carries Session-Expires and Supported: timer.

// timerEnabled is FreeSWITCH's enable-timer (on unless set false).
func (p *Profile) timerEnabled() bool {
	v, ok := p.cfg.Params["enable-timer"]
	return !ok || core.True(v)
}

// sessionExpires parses "N;refresher=x" (refresher lower-cased, "" when absent).
func sessionExpires(v string) (time.Duration, string) {
	parts := strings.Split(v, ";")
	n, _ := strconv.Atoi(strings.TrimSpace(parts[0]))
	ref := ""
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			ref = strings.ToLower(strings.TrimSpace(val))
		}
	}
	if n <= 0 {
		return 0, ref
	}
	return time.Duration(n) * time.Second, ref
}

// uasRefresher picks the refresher of a session our 2xx to req confirms (RFC 4028 §9): the
// request's choice, else the UAC when it supports timers, else us.
func uasRefresher(req *sip.Request) string {
	if _, ref := sessionExpires(headerValue(req, "Session-Expires")); ref == "uac" || ref == "uas" {
		return ref
	}
	if hasOptionTag(req, "Supported", "timer") || hasOptionTag(req, "Require", "timer") {
		return "uac"
	}
	return "uas"
}

// sessionTimerAnswer adds Session-Expires (and Require: timer when the caller supports it) to
// the 2xx of the initial INVITE; it returns whether we refresh.
func (c *inboundCall) sessionTimerAnswer(res *sip.Response) bool {
	if c.sessExpires <= 0 || !c.p.timerEnabled() {
		return false
	}
	req := c.ds.InviteRequest
	ref := uasRefresher(req)
	res.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", int(c.sessExpires.Seconds()), ref)))
	if hasOptionTag(req, "Supported", "timer") || hasOptionTag(req, "Require", "timer") {
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	return ref == "uas"
}

// startSessionTimer runs the timer once the dialog is up: refreshes when we refresh, else the
// expiry.
func (c *call) startSessionTimer(refresh bool) {
	if c.sessExpires <= 0 {
		return
	}
	if refresh {
		c.armRefresh(c.sessExpires)
		return
	}
	c.weRefresh.Store(false)
	c.armSessionTimer(c.sessExpires)
}

// peerRefreshed handles Session-Expires in a re-INVITE or UPDATE from the peer (a refresh)
// and puts the confirmation in res.
func (c *call) peerRefreshed(req *sip.Request, res *sip.Response) {
	if !c.p.timerEnabled() {
		return
	}
	d, _ := sessionExpires(headerValue(req, "Session-Expires"))
	if d <= 0 {
		if c.sessExpires > 0 && !c.weRefresh.Load() {
			c.armSessionTimer(c.sessExpires)
		}
		return
	}
	ref := uasRefresher(req)
	res.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", int(d.Seconds()), ref)))
	if hasOptionTag(req, "Supported", "timer") || hasOptionTag(req, "Require", "timer") {
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	if ref == "uas" {
		c.armRefresh(d)
		return
	}
	c.weRefresh.Store(false)
	c.armSessionTimer(d)
}

// addSessionHeaders puts our refresh headers in a re-INVITE or UPDATE we send while we are
// the refresher.
func (c *call) addSessionHeaders(req *sip.Request) {
	c.mu.Lock()
	d := c.sessExpires
	c.mu.Unlock()
	if d <= 0 || !c.weRefresh.Load() || !c.p.timerEnabled() {
		return
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", int(d.Seconds()))))
	if c.p.cfg.MinSE > 0 {
		req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(c.p.cfg.MinSE.Seconds()))))
	}
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
}

// armRefresh makes us the refresher: a refresh every interval/2 (RFC 4028 §10); a refresh
// that fails (no answer, 408, 481) ends the call.
func (c *call) armRefresh(interval time.Duration) {
	c.weRefresh.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessExpires = interval
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.sessTimer = time.AfterFunc(interval/2, func() {
		if c.ended.Load() {
			return
		}
		ctx, cancel := contextTimeout(min(interval/2, 32*time.Second))
		defer cancel()
		next, err := c.refreshSession(ctx)
		if err != nil {
			if c.ended.Load() {
				return
			}
			c.s.Log().Warn("session refresh failed", "err", err)
			c.s.Hangup(core.CauseRecoveryOnTimerExpire)
			return
		}
		if next.refresher == "uas" { // the peer took over
			c.startSessionTimer(false)
			return
		}
		c.armRefresh(next.interval)
	})
}

type refreshResult struct {
	interval  time.Duration
	refresher string
}

var errUpdateRefused = errors.New("sip: UPDATE not accepted")

// refreshSession sends one refresh and returns the interval the peer confirmed.
func (c *call) refreshSession(ctx context.Context) (refreshResult, error) {
	c.mu.Lock()
	cur := refreshResult{interval: c.sessExpires, refresher: "uac"}
	dir := c.holdDir
	c.mu.Unlock()
	if c.peerAllows("UPDATE") {
		res, err := c.sendUpdate(ctx)
		if err == nil {
			if d, ref := sessionExpires(headerValue(res, "Session-Expires")); d > 0 {
				cur = refreshResult{interval: d, refresher: ref}
			}
			c.s.SetVar("sip_session_refreshes", strconv.Itoa(atoiOr(c.s.Var("sip_session_refreshes"))+1))
			return cur, nil
		}
		if !errors.Is(err, errUpdateRefused) {
			return cur, err
		}
	}
	if err := c.reinvite(ctx, dir); err != nil {
		return cur, err
	}
	c.s.SetVar("sip_session_refreshes", strconv.Itoa(atoiOr(c.s.Var("sip_session_refreshes"))+1))
	return cur, nil
}

// sendUpdate sends an UPDATE without SDP carrying our refresh headers.
func (c *call) sendUpdate(ctx context.Context) (*sip.Response, error) {
	req := sip.NewRequest(sip.UPDATE, c.remoteTarget())
	c.addDialogContact(req)
	c.addSessionHeaders(req)
	if c.in != nil {
		req.SetTransport(c.in.ds.InviteRequest.Transport())
	}
	res, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	switch {
	case res.IsSuccess():
		return res, nil
	case res.StatusCode == 405 || res.StatusCode == 501 || res.StatusCode == 420 || res.StatusCode == 491:
		return nil, errUpdateRefused
	}
	return nil, fmt.Errorf("UPDATE refresh: %d %s", res.StatusCode, res.Reason)
}

// peerAllows reports whether the peer's Allow (from its INVITE or its 2xx) lists method.
func (c *call) peerAllows(method string) bool {
	var m sip.Message
	switch {
	case c.in != nil && c.in.ds != nil:
		m = c.in.ds.InviteRequest
	case c.out != nil && c.out.dc != nil && c.out.dc.InviteResponse != nil:
		m = c.out.dc.InviteResponse
	default:
		return false
	}
	return hasOptionTag(m, "Allow", method)
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (c *call) stopSessionTimer() {
	c.mu.Lock()
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.mu.Unlock()
}

// armSessionTimer (re)starts the RFC 4028 expiry: no refresh within the interval ends the call.
func (c *call) armSessionTimer(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.sessExpires = d
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.sessTimer = time.AfterFunc(d, func() {
		if c.s != nil {
			// Hangup sends the BYE (and sets sip_hangup_disposition=send_bye): set here first,
			// the inbound leg took it for the far end's BYE and sent none.
			c.s.Log().Info("session timer expired without refresh")
			c.s.Hangup(core.CauseMediaTimeout)
		}
	})
	c.mu.Unlock()
}
