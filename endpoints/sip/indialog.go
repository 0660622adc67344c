package sip

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// findCall matches an in-dialog request to its call by Call-ID and our tag (the To-tag).
func (p *Profile) findCall(req *sip.Request) *call {
	v, ok := p.calls.Load(callKey(req.CallID().Value(), tagOf(req.To().Params)))
	if !ok {
		return nil
	}
	return v.(*call)
}

func (p *Profile) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil || req.To() == nil || req.CSeq() == nil {
		return
	}
	c := p.findCall(req)
	if c == nil || c.ackReinvite(req.CSeq().SeqNo) || c.in == nil {
		return
	}
	c.mu.Lock()
	late := c.lateOffer && c.res == nil
	c.mu.Unlock()
	if late && len(req.Body()) > 0 {
		if err := c.acceptAnswer(req.Body()); err != nil {
			c.s.Log().Warn("late-offer answer in ACK refused", "err", err)
		}
	}
	if err := c.in.ds.ReadAck(req, tx); err != nil {
		return // a stray ACK (of a 2xx no longer retransmitted)
	}
}

func (p *Profile) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	cause := core.CauseNormalClearing
	if v := headerValue(req, "Reason"); v != "" {
		c.s.SetVar("sip_reason", v)
		if n, ok := reasonCause(v); ok && !core.True(c.s.Var("ignore_q850_reason")) {
			cause = core.Cause(n)
		}
	}
	// Mark the call ended before answering: an Answer still waiting for its ACK must not
	// mistake this BYE for a lost ACK.
	if !c.ended.Swap(true) {
		setOutcome(c.s, core.Outcome{Proto: sipProto(200), Disposition: "recv_bye"})
	}
	var err error
	if c.in != nil {
		err = c.in.ds.ReadBye(req, tx)
	} else {
		err = c.out.dc.ReadBye(req, tx)
	}
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	c.s.Hangup(cause)
}

// checkCSeq enforces RFC 3261 12.2.2: a lower or equal CSeq than the last one is out of order.
func (c *call) checkCSeq(req *sip.Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := req.CSeq().SeqNo
	if c.remoteCSeq != 0 && n <= c.remoteCSeq {
		return false
	}
	c.remoteCSeq = n
	return true
}

// onReInvite answers hold/unhold, codec changes, SRTP re-keys and session refreshes.
func (p *Profile) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if c.reinviting.Load() {
		tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	if !c.checkCSeq(req) {
		r := sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
		r.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(1)))
		tx.Respond(r)
		return
	}
	if bad := p.unsupportedRequire(req); bad != "" {
		r := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		r.AppendHeader(sip.NewHeader("Unsupported", bad))
		tx.Respond(r)
		return
	}
	body, code := c.updateFromOffer(req.Body())
	if code != 0 {
		tx.Respond(sip.NewResponseFromRequest(req, code, statusText(code), nil))
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(&sip.ContactHeader{Address: p.dua.ContactHDR.Address})
	c.refreshSessionTimer(req, res)
	// The 2xx of a re-INVITE is retransmitted by the UAS core until the ACK (reinviteack.go), for
	// at most 64*T1, at T1..T2 intervals; a newer re-INVITE or the end of the call stops it too.
	seq := req.CSeq().SeqNo
	acked := c.expectReinviteAck(seq)
	defer c.doneReinvite(seq)
	tx.Respond(res)
	t := time.NewTimer(sip.T1)
	defer t.Stop()
	wait := sip.T1
	deadline := time.NewTimer(64 * sip.T1)
	defer deadline.Stop()
	for {
		select {
		case <-acked:
			return
		case <-c.s.Done():
			return
		case <-deadline.C:
			return
		case <-t.C:
			tx.Respond(res)
			wait = min(2*wait, sip.T2)
			t.Reset(wait)
		}
	}
}

// updateFromOffer applies a re-INVITE/UPDATE offer and returns our answer (nil body without
// an offer: we answer with our current description, as RFC 3264 allows).
func (c *call) updateFromOffer(body []byte) ([]byte, int) {
	if len(body) == 0 {
		c.mu.Lock()
		dir, has := c.holdDir, c.res != nil
		cur := c.localSDP
		c.mu.Unlock()
		if !has {
			return cur, 0
		}
		o, err := c.reoffer(dir)
		if err != nil {
			return nil, 500
		}
		return o.SDP, 0
	}
	if code, err := c.answerOffer(body); err != nil {
		c.s.Log().Warn("re-INVITE refused", "err", err)
		return nil, code
	}
	c.mu.Lock()
	hold := c.res.Hold
	answer := c.localSDP
	c.mu.Unlock()
	if hold {
		c.s.SetVar("sip_hold", "true")
	} else {
		c.s.UnsetVar("sip_hold")
	}
	// CHANNEL_HOLD/UNHOLD and hold music to the bridged party, unless disable-hold/rtp_disable_hold.
	if !c.p.cfg.DisableHold && !core.True(c.s.Var("rtp_disable_hold")) {
		c.s.MarkHold(hold)
	}
	return answer, 0
}

func (c *call) refreshSessionTimer(req *sip.Request, res *sip.Response) {
	c.peerRefreshed(req, res) // sessiontimer.go
}

func (p *Profile) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	var body []byte
	if len(req.Body()) > 0 {
		b, code := c.updateFromOffer(req.Body())
		if code != 0 {
			tx.Respond(sip.NewResponseFromRequest(req, code, statusText(code), nil))
			return
		}
		body = b
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	c.refreshSessionTimer(req, res)
	tx.Respond(res)
}

// onInfo takes DTMF from application/dtmf-relay and application/dtmf bodies.
func (p *Profile) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	body := string(req.Body())
	var digit rune
	dur := 250 * time.Millisecond
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(body, "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				if v = strings.TrimSpace(v); v != "" {
					digit = []rune(strings.ToUpper(v))[0]
				}
			case "duration":
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					dur = time.Duration(n) * time.Millisecond
				}
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		if b := strings.TrimSpace(body); b != "" {
			digit = []rune(b)[0]
			if n, err := strconv.Atoi(b); err == nil && n >= 0 && n <= 15 {
				digit, _ = rtp.EventDigit(uint8(n))
			}
		}
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	if _, ok := rtp.DigitEvent(digit); ok {
		d := media.DTMF{Digit: digit, Duration: dur, Source: "INBAND_SIGNALING"}
		if c.port != nil {
			c.port.ReceiveDTMF(d) // reaches OnDTMF and, when bridged, the other leg
		} else {
			c.s.QueueDTMF(d)
		}
	}
}

// onRefer does a transfer. Blind: the other party (the bridged peer, else this channel) goes to
// the Refer-To user in the dialplan; the referrer is hung up. Attended (Refer-To with Replaces
// naming the referrer's other call): the two parties the referrer talks to are bridged together
// and the referrer's two channels hang up.
func (p *Profile) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	rt := req.ReferTo()
	if rt == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Missing Refer-To", nil))
		return
	}
	if core.True(c.s.Var("sip_disable_transfer")) || p.cfg.DisableTransfer {
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	s := c.s
	peer := s.Peer()
	target := s
	if peer != nil {
		target = peer
	}
	// The referrer is this dialog's far end: its authority, not the channel's current context,
	// decides where the transfer may go (blind and attended/Replaces alike).
	dctx, ok := p.referContext(c, target)
	if !ok {
		p.log.Warn("security: REFER refused: the referrer did not authenticate (refer-requires-auth)",
			"ip", sourceAddr(req).Addr().String(), "from", req.From().Address.User, "refer_to", rt.Address.User, "uuid", s.UUID())
		tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	if id, ok := referReplaces(rt); ok {
		if transferee, target, ok := p.attendedTarget(c, id); ok {
			tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
			s.SetVar("sip_refer_to", rt.Value())
			go func() {
				c.notifyRefer()
				if err := p.completeAttended(transferee, target); err != nil {
					s.Log().Warn("attended transfer failed", "err", err)
				}
			}()
			return
		}
		// Not a call of ours, or not in a bridge: the transfer goes to the Refer-To user.
	}
	dest := rt.Address.User
	tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	s.SetVar("sip_refer_to", rt.Value())
	if by := req.ReferredBy(); by != nil {
		s.SetVar("sip_referred_by", by.Value())
	}
	if peer != nil {
		peer.SetVar("transfer_source", s.UUID())
		peer.Transfer(dest, "", dctx)
		go c.notifyRefer()
		return
	}
	go c.notifyRefer()
	s.Transfer(dest, "", dctx)
}

// notifyRefer sends the final sipfrag NOTIFY for an accepted REFER.
func (c *call) notifyRefer() {
	n := sip.NewRequest(sip.NOTIFY, c.remoteTarget())
	n.AppendHeader(sip.NewHeader("Event", "refer"))
	n.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	n.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	n.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	c.do(ctx, n)
}
