package sip

import (
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// challengeTags remembers the To-tag of each INVITE answered 401/407, by Call-ID and From-tag, so
// that the authenticated INVITE which follows gets its dialog under the same tag. RFC 3261 lets
// a UAS pick any tag for the new dialog; picking the challenge's one means a caller that confuses
// the two (SIPp aborting on a retransmitted 407 sends its BYE with the 407's tag) still ends the
// call it set up, instead of leaving it up with a 481 for its BYE. Two generations of Timer H
// (64*T1) each, so memory stays bounded by the challenge rate.
type challengeTags struct {
	mu        sync.Mutex
	cur, prev map[string]string
	rotated   time.Time
}

const (
	challengeTagTTL = 64 * 500 * time.Millisecond
	challengeTagCap = 1 << 16 // per generation; beyond it new challenges are not remembered
)

func challengeKey(req *sip.Request) string {
	if req.CallID() == nil || req.From() == nil {
		return ""
	}
	return req.CallID().Value() + "|" + tagOf(req.From().Params)
}

// remember records the To-tag res (a challenge to req) carries.
func (c *challengeTags) remember(req *sip.Request, res *sip.Response) {
	key := challengeKey(req)
	if key == "" || res.To() == nil {
		return
	}
	tag := tagOf(res.To().Params)
	if tag == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(time.Now())
	if len(c.cur) < challengeTagCap {
		c.cur[key] = tag
	}
}

// take returns (and forgets) the tag of the challenge to an earlier INVITE of req's call.
func (c *challengeTags) take(req *sip.Request) string {
	key := challengeKey(req)
	if key == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(time.Now())
	for _, m := range []map[string]string{c.cur, c.prev} {
		if tag, ok := m[key]; ok {
			delete(m, key)
			return tag
		}
	}
	return ""
}

func (c *challengeTags) rotate(now time.Time) {
	if c.cur == nil {
		c.cur, c.rotated = map[string]string{}, now
	}
	if now.Sub(c.rotated) >= challengeTagTTL {
		c.prev, c.cur, c.rotated = c.cur, map[string]string{}, now
	}
}

// useChallengeTag gives the dialog of an authenticated INVITE the To-tag its challenge had.
func (p *Profile) useChallengeTag(ds *sipgo.DialogServerSession, req *sip.Request) {
	tag := p.challenged.take(req)
	if tag == "" {
		return
	}
	ds.InviteRequest.To().Params.Add("tag", tag)
	if id, err := sip.DialogIDFromRequestUAS(ds.InviteRequest); err == nil {
		ds.ID = id
	}
}
