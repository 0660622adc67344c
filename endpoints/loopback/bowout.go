package loopback

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

const (
	sideA = 0 // the half the caller bridges to (loopback_leg=A)
	sideB = 1 // the half that runs the dialplan (loopback_leg=B)

	// maxChain bounds the walk through loopback pairs bridged to one another.
	maxChain = 16
	// parkWait bounds how long a bowout waits for the real channels to leave their bridges.
	parkWait = 5 * time.Second
)

// pair is what the two halves share: which channel each half's bridge joined it to, and whether
// the pair has bowed out (at most once, as FreeSWITCH's TFLAG_BOWOUT_USED).
type pair struct {
	h    *core.Host
	sess [2]*core.Session

	mu   sync.Mutex
	peer [2]*core.Session // set by Bridged: that bridge is fully up

	used atomic.Bool
}

// bridged records that half side is bridged to peer and bows out if the pair may now.
func (p *pair) bridged(side int, peer *core.Session) {
	p.mu.Lock()
	p.peer[side] = peer
	p.mu.Unlock()
	p.check()
}

// bridgedPeer returns the channel half side is bridged to, if that bridge has been announced by
// Bridged (a bridge still starting could clear a Take mark set on its channel) and is still up.
func (p *pair) bridgedPeer(side int) *core.Session {
	p.mu.Lock()
	peer := p.peer[side]
	p.mu.Unlock()
	if peer == nil || peer.HungUp() || p.sess[side].Peer() != peer {
		return nil
	}
	return peer
}

// bowoutAllowed reads loopback_bowout: unset or true lets the pair leave (FreeSWITCH's default).
func bowoutAllowed(s *core.Session) bool {
	v := s.Var("loopback_bowout")
	return v == "" || core.True(v)
}

// tapped reports whether a media bug (record_session, a detector) is attached to a half: it would
// end with the half, so the pair stays in the path. FreeSWITCH moves recordings to the real
// channels instead; goswitch's media bugs cannot move between channels.
func tapped(s *core.Session) bool {
	st, ok := s.Media().(interface{ HasTaps() bool })
	return ok && st.HasTaps()
}

// check is mod_loopback's write-path test: both halves answered and bridged, neither vetoing
// with loopback_bowout=false nor recording, and a channel at the far end of each side's bridge.
// Then the pair bows out: the two far channels are bridged directly and the halves hang up.
func (p *pair) check() {
	a, b := p.sess[sideA], p.sess[sideB]
	if p.used.Load() || a.HungUp() || b.HungUp() || !a.Answered() || !b.Answered() {
		return
	}
	if !bowoutAllowed(a) || !bowoutAllowed(b) || tapped(a) || tapped(b) {
		return
	}
	ra, rb := p.far(sideA), p.far(sideB)
	if ra == nil || rb == nil || ra == rb {
		return
	}
	if !claim(ra, rb) { // another pair of the same chain is bowing out with these channels
		return
	}
	if !p.used.CompareAndSwap(false, true) {
		release(ra, rb)
		return
	}
	go p.bowout(ra, rb)
}

// far follows half side's bridge past loopback pairs that allow bowout (find_non_loopback_bridge):
// it returns the first channel that is not a loopback half, or a loopback half that keeps its
// pair (loopback_bowout=false), which then stands in for a real channel. nil when the chain ends
// in a half that is not bridged.
func (p *pair) far(side int) *core.Session {
	cur, s := p, side
	for range maxChain {
		peer := cur.bridgedPeer(s)
		if peer == nil {
			return nil
		}
		l, ok := peer.Leg().(*leg)
		if !ok || !bowoutAllowed(peer) {
			return peer
		}
		if l.pair == p {
			return nil // the pair is bridged to itself
		}
		cur, s = l.pair, 1-l.side
	}
	return nil
}

// bowout bridges ra and rb, the channels the two halves are bridged to, directly to each other
// (switch_ivr_uuid_bridge) and hangs the halves up without the real channels following them:
// both are taken first, so each leaves its bridge with the pair, parks, and waits for the new one.
func (p *pair) bowout(ra, rb *core.Session) {
	defer release(ra, rb)
	a, b := p.sess[sideA], p.sess[sideB]
	// A channel bridged as the B-leg enters CS_EXCHANGE_MEDIA from a command its bridge queued:
	// taken before that command ran, it could park and then be marked EXCHANGE_MEDIA again. So
	// take the ends only once both are settled in their bridges, and still the pair's ends.
	if !waitAll(func(s *core.Session) bool { return s.State() == core.StateExchangeMedia }, ra, rb) ||
		p.far(sideA) != ra || p.far(sideB) != rb {
		p.used.Store(false) // not this time: a later bridge may try again
		return
	}
	cfg := loadSettings(a)
	a.Log().Info("loopback bowout: bridging both ends directly", "a", ra.Name(), "b", rb.Name())
	ra.Take()
	rb.Take()
	a.SetVar("loopback_hangup_cause", "bridge")
	a.SetVar("loopback_bowout_other_uuid", ra.UUID())
	b.SetVar("loopback_hangup_cause", "bridge")
	b.SetVar("loopback_bowout_other_uuid", rb.UUID())
	if cfg.fireDirect {
		fireDirect(a, b, ra, rb)
		fireDirect(b, a, rb, ra)
	}
	// Without bowout-controlled-hangup FreeSWITCH's halves end as bridge legs whose partner left,
	// NORMAL_CLEARING; with it, with bowout-hangup-cause.
	cause := core.CauseNormalClearing
	if cfg.controlled {
		cause = cfg.cause
	}
	a.Hangup(cause) // the B half follows with the same cause
	b.Hangup(cause)
	// Through a chain of pairs the ends are bridged to another pair's halves, which this pair's
	// hangup reaches only later: end those bridges now (a no-op when already ended).
	ra.LeaveBridge()
	rb.LeaveBridge()
	if !waitAll(parked, ra, rb) {
		a.Log().Warn("loopback bowout: the channels did not leave the pair in time", "a", ra.State(), "b", rb.State())
	}
	if ra.HungUp() || rb.HungUp() {
		// One end left while the pair bowed out: the other must not stay parked.
		hangupLike(ra, rb)
		hangupLike(rb, ra)
		return
	}
	ra.SetOriginatee(rb) // the A end's CDR names its new partner (bleg_uuid)
	if err := p.h.UUIDBridge(ra, rb); err != nil {
		a.Log().Warn("loopback bowout: bridging the ends failed", "err", err)
		hangupLike(ra, rb)
		hangupLike(rb, ra)
	}
}

// hangupLike hangs s up with other's cause when other has hung up.
func hangupLike(s, other *core.Session) {
	if other.HungUp() && !s.HungUp() {
		s.Hangup(other.HangupCause())
	}
}

// parked reports whether s has left every bridge and parked (a taken channel does once its
// bridge has ended).
func parked(s *core.Session) bool { return s.State() == core.StatePark && s.Peer() == nil }

// waitAll waits until cond holds for every channel given, or one hangs up, or parkWait passes.
// The channels get there within a few scheduling rounds; the core has no event to wait on, so it
// polls as the core's other take-and-bridge users do.
func waitAll(cond func(*core.Session) bool, ss ...*core.Session) bool {
	deadline := time.Now().Add(parkWait)
	for {
		all := true
		for _, s := range ss {
			if s.HungUp() {
				return false
			}
			if !cond(s) {
				all = false
			}
		}
		if all {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fireDirect publishes loopback::direct for half self (fire-bowout-on-bridge).
func fireDirect(self, other, connA, connB *core.Session) {
	e := self.NewEvent(event.Custom, "loopback::direct")
	e.Add("Resigning-UUID", self.UUID())
	e.Add("Resigning-Peer-UUID", other.UUID())
	e.Add("Connecting-Leg-A-UUID", connA.UUID())
	e.Add("Connecting-Leg-B-UUID", connB.UUID())
	self.Host().Bus.Publish(e)
}

// claims are the real channels a bowout is moving; two pairs of one chain must not move the same
// channels at once.
var claims = struct {
	sync.Mutex
	m map[*core.Session]bool
}{m: map[*core.Session]bool{}}

func claim(ss ...*core.Session) bool {
	claims.Lock()
	defer claims.Unlock()
	for _, s := range ss {
		if claims.m[s] {
			return false
		}
	}
	for _, s := range ss {
		claims.m[s] = true
	}
	return true
}

func release(ss ...*core.Session) {
	claims.Lock()
	defer claims.Unlock()
	for _, s := range ss {
		delete(claims.m, s)
	}
}
