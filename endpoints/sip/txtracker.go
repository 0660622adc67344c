package sip

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// txTracker is the client's transaction requester: the default behaviour (transaction layer,
// ACKs straight to the transport) plus a note of each outbound INVITE's client transaction on
// its call, so the call can watch that transaction for forked 2xx responses, which sipgo's
// dialog would otherwise treat as retransmissions of the first (LIBRARIES.md 3.3.4).
type txTracker struct {
	p   *Profile
	tp  *sip.TransportLayer
	txl *sip.TransactionLayer
}

func (t *txTracker) Request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	t.p.sendMu.RLock()
	defer t.p.sendMu.RUnlock()
	if t.p.stopped {
		return nil, errProfileStopped
	}
	if req.IsAck() {
		return nil, t.tp.WriteMsg(req)
	}
	tx, err := t.txl.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if req.Method == sip.INVITE {
		if cid := req.CallID(); cid != nil {
			if v, ok := t.p.inviting.Load(cid.Value()); ok {
				c := v.(*outboundCall)
				c.mu.Lock()
				c.inviteTx = tx
				c.mu.Unlock()
			}
		}
	}
	return tx, nil
}
