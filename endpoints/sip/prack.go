package sip

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// Reliable provisional responses (RFC 3262, option tag 100rel), both directions.
//
// Inbound: a caller that requires 100rel, or supports it on a profile with enable-100rel (as
// FreeSWITCH's), gets its 180/183 reliably: Require: 100rel and an RSeq, retransmitted from T1
// doubling until the caller's PRACK (answered 200) or the final response; the next reliable
// provisional and the 200 wait for the PRACK of the last one (RFC 3262 §3).
//
// Outbound: an INVITE says Supported: 100rel when enable-100rel is on; a reliable 18x (Require:
// 100rel and RSeq) from the far end is PRACKed with RAck "RSeq CSeq INVITE" in the early
// dialog, whatever the setting (a UAS that sends one relies on it). sipgo has no PRACK support:
// the PRACK goes through the dialog client session, which during WaitAnswer holds the 18x.

// reliable100rel reports whether the profile offers 100rel (FreeSWITCH's enable-100rel).
func (p *Profile) reliable100rel() bool { return core.True(p.cfg.Params["enable-100rel"]) }

// supportedHeader is our Supported option tags.
func (p *Profile) supportedHeader() string {
	var tags []string
	if p.timerEnabled() {
		tags = append(tags, "timer")
	}
	if p.reliable100rel() {
		tags = append(tags, "100rel")
	}
	return strings.Join(tags, ", ")
}

// unsupportedRequire is the Require tags of req we do not implement: 100rel is one unless the
// profile enables it (FreeSWITCH answers Require: 100rel with 420 when enable-100rel is off).
func (p *Profile) unsupportedRequire(req *sip.Request) string {
	bad := unsupportedRequire(req)
	if bad == "" || !p.reliable100rel() {
		return bad
	}
	var keep []string
	for _, t := range strings.Split(bad, ", ") {
		if t != "100rel" {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, ", ")
}

// hasOptionTag reports whether one of req's headers named name lists tag.
func hasOptionTag(m sip.Message, name, tag string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// relState is the inbound side's reliable-provisional state of one call.
type relState struct {
	mu      sync.Mutex
	rseq    uint32        // RSeq of the last reliable provisional sent
	acked   chan struct{} // closed by the PRACK of rseq (nil: none outstanding)
	stopped chan struct{} // closed when a final response went out: no more retransmissions
	stopOne sync.Once
}

// reliableFor returns the call's reliable-provisional state, or nil when its 18x go unreliably.
func (c *inboundCall) reliableFor() *relState {
	if c.ds == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rel != nil {
		return c.rel
	}
	inv := c.ds.InviteRequest
	if !hasOptionTag(inv, "Require", "100rel") && !(c.p.reliable100rel() && hasOptionTag(inv, "Supported", "100rel")) {
		return nil
	}
	c.rel = &relState{rseq: rand.Uint32N(1 << 30), stopped: make(chan struct{})}
	return c.rel
}

// relNow is the call's reliable-provisional state if one was sent.
func (c *call) relNow() *relState {
	if c.in == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in.rel
}

// writeProvisional sends an 18x, reliably when the call uses 100rel.
func (c *inboundCall) writeProvisional(res *sip.Response) error {
	st := c.reliableFor()
	if st == nil {
		return c.ds.WriteResponse(res)
	}
	if !st.waitPrack(&c.call, 64*sip.T1) {
		c.s.Log().Warn("reliable provisional: no PRACK for the previous one")
	}
	st.mu.Lock()
	st.rseq++
	n := st.rseq
	acked := make(chan struct{})
	st.acked = acked
	st.mu.Unlock()
	res.AppendHeader(sip.NewHeader("Require", "100rel"))
	res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(n), 10)))
	if res.Contact() == nil {
		res.AppendHeader(&sip.ContactHeader{Address: c.p.dua.ContactHDR.Address})
	}
	if err := c.ds.WriteResponse(res); err != nil {
		return err
	}
	// Retransmit at T1, 2T1, ... (no T2 cap, RFC 3262 §3) until PRACK, final response or 64*T1.
	go func() {
		wait := sip.T1
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline := time.NewTimer(64 * sip.T1)
		defer deadline.Stop()
		for {
			select {
			case <-acked:
				return
			case <-st.stopped:
				return
			case <-c.s.Done():
				return
			case <-deadline.C:
				c.s.Log().Warn("reliable provisional never PRACKed", "rseq", n)
				return
			case <-t.C:
				if err := c.ds.WriteResponse(res); err != nil {
					return
				}
				wait *= 2
				t.Reset(wait)
			}
		}
	}()
	return nil
}

// waitPrack waits (at most d) for the PRACK of the outstanding reliable provisional.
func (st *relState) waitPrack(c *call, d time.Duration) bool {
	st.mu.Lock()
	acked := st.acked
	st.mu.Unlock()
	if acked == nil {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-acked:
		return true
	case <-c.s.Done():
	case <-st.stopped:
	case <-t.C:
	}
	return false
}

// beforeFinal is called before the INVITE's final response: a 2xx waits for the PRACK of an
// outstanding reliable provisional (RFC 3262 §3); retransmissions stop either way.
func (c *inboundCall) beforeFinal(success bool) {
	st := c.relNow()
	if st == nil {
		return
	}
	if success && !st.waitPrack(&c.call, 32*sip.T1) {
		c.s.Log().Warn("answering without the PRACK of our reliable provisional")
	}
	st.stopOne.Do(func() { close(st.stopped) })
}

// onPrack answers a PRACK: 200 when its RAck names our outstanding reliable provisional,
// 481 otherwise (RFC 3262 §3).
func (p *Profile) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	var st *relState
	if c != nil {
		st = c.relNow()
	}
	if st == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	rseq, cseq, method, err := parseRAck(headerValue(req, "RAck"))
	inv := c.in.ds.InviteRequest.CSeq()
	st.mu.Lock()
	match := err == nil && rseq == st.rseq && cseq == inv.SeqNo && strings.EqualFold(method, "INVITE")
	if match && st.acked != nil {
		select {
		case <-st.acked:
		default:
			close(st.acked)
		}
	}
	st.mu.Unlock()
	if !match {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	// A PRACK may carry an SDP answer (RFC 3262 §5): to a late-offer INVITE our reliable 183
	// carried the offer, and this is the answer (the ACK then has none). Any other body (an
	// answer to an answer) is ignored.
	c.mu.Lock()
	late := c.lateOffer && c.res == nil
	c.mu.Unlock()
	if late && len(req.Body()) > 0 {
		if err := c.acceptAnswer(req.Body()); err != nil {
			c.s.Log().Warn("answer in PRACK refused", "err", err)
			tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// parseRAck splits "RSeq CSeq Method".
func parseRAck(v string) (rseq, cseq uint32, method string, err error) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return 0, 0, "", errors.New("bad RAck")
	}
	r, err1 := strconv.ParseUint(f[0], 10, 32)
	s, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, "", errors.New("bad RAck")
	}
	return uint32(r), uint32(s), f[2], nil
}

// prackResponse PRACKs a reliable 18x on an outbound leg (called from WaitAnswer's OnResponse,
// where the dialog session holds r as its current response). Retransmissions (an RSeq not
// above the last one) are dropped, RFC 3262 §4.
func (c *outboundCall) prackResponse(r *sip.Response) {
	if c.dc == nil || r.StatusCode <= 100 || r.StatusCode >= 200 || !hasOptionTag(r, "Require", "100rel") {
		return
	}
	n, err := strconv.ParseUint(strings.TrimSpace(headerValue(r, "RSeq")), 10, 32)
	if err != nil || tagOf(r.To().Params) == "" {
		return
	}
	if last := c.prackRSeq.Load(); last != 0 && uint32(n) <= last {
		return
	}
	c.prackRSeq.Store(uint32(n))
	target := c.dc.InviteRequest.Recipient
	if ct := r.Contact(); ct != nil {
		target = ct.Address
	}
	req := sip.NewRequest(sip.PRACK, target)
	req.AppendHeader(sip.HeaderClone(r.To()))
	inv := c.dc.InviteRequest.CSeq()
	req.AppendHeader(sip.NewHeader("RAck", strconv.FormatUint(n, 10)+" "+strconv.FormatUint(uint64(inv.SeqNo), 10)+" INVITE"))
	c.addDialogContact(req)
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	tx, err := c.dc.TransactionRequest(ctx, req)
	if err != nil {
		cancel()
		c.s.Log().Warn("PRACK not sent", "err", err)
		return
	}
	c.s.SetVar("sip_prack_sent", "true")
	go func() { // the PRACK's 200 (or error) arrives on its own transaction
		defer cancel()
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				if !res.IsSuccess() {
					c.s.Log().Warn("PRACK refused", "status", res.StatusCode)
				}
				return
			case <-tx.Done():
				return
			case <-ctx.Done():
				return
			case <-c.s.Done():
				return
			}
		}
	}()
}
