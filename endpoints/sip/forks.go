package sip

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// watchForks ACKs and BYEs 2xx responses from other branches of a forked INVITE (a To-tag other
// than the dialog's): RFC 3261 13.2.2.4 wants every 2xx ACKed, and we keep only one dialog.
func (c *outboundCall) watchForks() {
	c.mu.Lock()
	tx := c.inviteTx
	c.mu.Unlock()
	if tx == nil || c.dc.InviteResponse == nil {
		return
	}
	first := tagOf(c.dc.InviteResponse.To().Params)
	var seen sync.Map
	tx.OnRetransmission(func(r *sip.Response) {
		if r.StatusCode/100 != 2 || r.To() == nil {
			return
		}
		if tag := tagOf(r.To().Params); tag != "" && tag != first {
			c.ackFork(r, tag, &seen)
		}
	})
}

func (c *outboundCall) ackFork(r *sip.Response, tag string, seen *sync.Map) {
	inv := c.dc.InviteRequest
	target := inv.Recipient
	if ct := r.Contact(); ct != nil {
		target = ct.Address
	}
	mk := func(m sip.RequestMethod, seq uint32) *sip.Request {
		req := sip.NewRequest(m, target)
		req.AppendHeader(sip.HeaderClone(inv.From()))
		req.AppendHeader(sip.HeaderClone(r.To()))
		req.AppendHeader(sip.HeaderClone(inv.CallID()))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: m})
		rrs := r.GetHeaders("Record-Route")
		for i := len(rrs) - 1; i >= 0; i-- {
			req.AppendHeader(sip.NewHeader("Route", rrs[i].Value()))
		}
		req.SetTransport(inv.Transport())
		req.Laddr = inv.Laddr
		if len(rrs) == 0 {
			req.SetDestination(r.Source())
		}
		return req
	}
	if err := c.p.cli.WriteRequest(mk(sip.ACK, inv.CSeq().SeqNo)); err != nil {
		c.p.log.Debug("ACK of forked 2xx", "err", err)
	}
	if _, dup := seen.LoadOrStore(tag, true); dup {
		return
	}
	c.s.Log().Info("forked 2xx from a second dialog: ACK and BYE", "to_tag", tag)
	go func() {
		ctx, cancel := contextTimeout(5 * time.Second)
		defer cancel()
		if _, err := c.p.cli.Do(ctx, mk(sip.BYE, inv.CSeq().SeqNo+1)); err != nil {
			c.p.log.Debug("BYE of forked dialog", "err", err)
		}
	}()
}
