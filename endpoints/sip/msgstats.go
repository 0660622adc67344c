package sip

import (
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// sipMethods are the methods counted by name; anything else counts as "OTHER".
var sipMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "REFER",
	"UPDATE", "PRACK", "NOTIFY", "SUBSCRIBE", "MESSAGE", "PUBLISH", "OTHER"}

const (
	nMethods   = len(sipMethods)
	firstCode  = 100
	nCodes     = 600 // 100-699
	otherIndex = nMethods - 1
)

// msgStats counts the requests a profile receives and the responses it sends to them, by method
// and status code: one atomic add per message, no allocation, read at scrape time.
// Counted are the requests that reach the profile's handlers (so not the ACK of a non-2xx
// response, which its INVITE transaction absorbs, nor what is dropped before parsing: banned
// sources, floods, unparsable datagrams) and the responses sent through their transactions.
type msgStats struct {
	req [nMethods]atomic.Uint64
	res [nMethods][nCodes]atomic.Uint64
}

func methodIndex(m sip.RequestMethod) uint8 {
	for i, name := range sipMethods[:otherIndex] {
		if string(m) == name {
			return uint8(i)
		}
	}
	return uint8(otherIndex)
}

func (s *msgStats) response(m uint8, code int) {
	if code >= firstCode && code < firstCode+nCodes {
		s.res[m][code-firstCode].Add(1)
	}
}

// respTx counts the responses sent through a server transaction; over UDP it also sends the
// ones too big for sipgo itself (largeUDPTx).
type respTx struct {
	sip.ServerTransaction
	p   *Profile
	m   uint8
	udp bool
}

func (t *respTx) Respond(res *sip.Response) error {
	t.p.msgs.response(t.m, res.StatusCode)
	if res.StatusCode >= 300 && t.m == inviteIndex {
		drainACK(t.ServerTransaction)
	}
	if t.udp {
		return largeUDPTx{ServerTransaction: t.ServerTransaction, p: t.p}.Respond(res)
	}
	return t.ServerTransaction.Respond(res)
}

const inviteIndex = 0 // sipMethods[0]

// countRequest counts req and wraps tx so that its responses are counted.
func (p *Profile) countRequest(req *sip.Request, tx sip.ServerTransaction, udp bool) sip.ServerTransaction {
	m := methodIndex(req.Method)
	p.msgs.req[m].Add(1)
	return &respTx{ServerTransaction: tx, p: p, m: m, udp: udp}
}

// SIPMessageCounts calls fn for every non-zero counter of every running profile: requests
// received (code 0) and responses sent (code set), by method. The metrics endpoint reads it.
func (e *Endpoint) SIPMessageCounts(fn func(profile, method string, code int, n uint64)) {
	for _, name := range e.ProfileNames() {
		p, ok := e.Profile(name)
		if !ok {
			continue
		}
		for m := range nMethods {
			if n := p.msgs.req[m].Load(); n > 0 {
				fn(name, sipMethods[m], 0, n)
			}
			for c := range nCodes {
				if n := p.msgs.res[m][c].Load(); n > 0 {
					fn(name, sipMethods[m], firstCode+c, n)
				}
			}
		}
	}
}
