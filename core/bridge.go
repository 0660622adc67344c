package core

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// bridge joins two channels' media until one side leaves.
type bridge struct {
	a, b *Session
	done chan struct{}
	once sync.Once
	// media is set when the ports are joined by media.Bridge, which carries digits across in the
	// form the other leg negotiated; the channels must not forward them a second time.
	media atomic.Bool

	mu        sync.Mutex // the media below: the bridge goroutine and hold changes (hold.go)
	joined    func()     // a join made before the bridge (early media), taken over at start
	stopMedia func()
	music     map[*Session]*holdPlay // hold music playing to a side
	closed    bool
}

// forwardDTMF sends a digit received on from to the other side, unless the media bridge does.
func (br *bridge) forwardDTMF(from *Session, d media.DTMF) {
	if br.media.Load() {
		return
	}
	if l := br.other(from).Leg(); l != nil {
		_ = l.SendDTMF(d)
	}
}

// dropJoined stops a pre-bridge join the bridge did not take over.
func (br *bridge) dropJoined() {
	br.mu.Lock()
	j := br.joined
	br.joined = nil
	br.mu.Unlock()
	callIf(j)
}

func (br *bridge) end() { br.once.Do(func() { close(br.done) }) }

func (br *bridge) other(s *Session) *Session {
	if s == br.a {
		return br.b
	}
	return br.a
}

// ErrBridged is returned when a channel is already bridged.
var errBridged = Fail(CauseWrongCallState, "channel already bridged")

// Bridge joins this channel (the A-leg, on its own goroutine, e.g. from the bridge app) with peer
// and blocks until the bridge ends: either side hangs up, this side is transferred or broken, or the
// peer leaves. Media is relayed when both ports allow it, otherwise transcoded. When this side hangs
// up, the peer is hung up with the same cause; what happens to this side when the peer leaves is
// the caller's decision (hangup_after_bridge and friends).
func (s *Session) Bridge(ctx context.Context, peer *Session) error {
	return s.bridgeWith(ctx, peer, nil)
}

// BridgeJoined is Bridge for two channels whose ports are already joined by media.Bridge (the
// bridge app's early media): the bridge keeps that join, ended by stopMedia, instead of tearing it
// down and joining the same ports a second time. It owns stopMedia on every path, errors included.
func (s *Session) BridgeJoined(ctx context.Context, peer *Session, stopMedia func()) error {
	return s.bridgeWith(ctx, peer, stopMedia)
}

func (s *Session) bridgeWith(ctx context.Context, peer *Session, joined func()) error {
	br := &bridge{a: s, b: peer, done: make(chan struct{}), joined: joined}
	defer br.dropJoined() // the error paths; startMediaLocked takes it otherwise
	s.mu.Lock()
	if s.bridge != nil {
		s.mu.Unlock()
		return errBridged
	}
	s.bridge = br
	s.times.Bridged = time.Now()
	s.mu.Unlock()
	peer.mu.Lock()
	if peer.bridge != nil {
		peer.mu.Unlock()
		s.mu.Lock()
		s.bridge = nil
		s.mu.Unlock()
		return errBridged
	}
	peer.bridge = br
	peer.times.Bridged = time.Now()
	peer.mu.Unlock()

	for _, pair := range [][2]*Session{{s, peer}, {peer, s}} {
		me, other := pair[0], pair[1]
		me.vars.Set("bridge_to", other.uuid)
		me.vars.Set("last_bridge_to", other.uuid)
		me.vars.Set("signal_bond", other.uuid)
		me.vars.Set("bridge_uuid", other.uuid)
		me.vars.Set("bridge_channel", other.Name())
	}
	if !peer.Enqueue(func() { peer.setState(StateExchangeMedia) }) {
		s.unbridge(br)
		return Fail(peer.HangupCause(), "peer hung up before the bridge")
	}
	s.SetPrivate(takenKey, nil)
	peer.SetPrivate(takenKey, nil)
	s.setState(StateExchangeMedia)
	s.publishChannel(event.ChannelBridge, func(e *event.Event) {
		e.Add("Bridge-A-Unique-ID", s.uuid)
		e.Add("Bridge-B-Unique-ID", peer.uuid)
	})
	s.log.Info("bridged", "a", s.Name(), "b", peer.Name())

	br.mu.Lock()
	br.startMediaLocked()
	br.mu.Unlock()
	notifyBridged(s, peer)
	s.bridgeLoop(ctx, br, peer)
	br.closeMedia()
	s.unbridge(br)
	s.publishChannel(event.ChannelUnbridge, func(e *event.Event) {
		e.Add("Bridge-A-Unique-ID", s.uuid)
		e.Add("Bridge-B-Unique-ID", peer.uuid)
	})
	if s.ctx.Err() != nil && !peer.Taken() {
		// The A-leg is gone: the B-leg follows with the same cause (unless another channel took
		// it, as intercept does).
		peer.Hangup(s.HangupCause())
	}
	if s.ctx.Err() == nil {
		s.setState(StateExecute)
	}
	return nil
}

// bridgeLoop forwards digits and runs queued commands until the bridge ends.
func (s *Session) bridgeLoop(ctx context.Context, br *bridge, peer *Session) {
	for {
		select {
		case <-ctx.Done():
			br.end()
			return
		case <-s.ctx.Done():
			br.end()
			return
		case <-peer.ctx.Done():
			br.end()
			return
		case <-br.done:
			return
		case <-s.cmdWake:
			s.runCommands()
			if s.transferPending() {
				br.end()
				return
			}
		case d := <-s.dtmf:
			if key := s.vars.Value("bridge_terminate_key"); key != "" && string(d.Digit) == key {
				br.end()
				return
			}
			br.forwardDTMF(s, d)
		}
	}
}

// unbridge clears both channels' bridge pointers.
func (s *Session) unbridge(br *bridge) {
	br.end()
	for _, x := range []*Session{br.a, br.b} {
		x.mu.Lock()
		if x.bridge == br {
			x.bridge = nil
		}
		x.mu.Unlock()
	}
}

// leaveBridge ends the bridge this channel is in, if any, when it is transferred away from its
// wait loop: the other side's bridge returns and goes on with its dialplan (hangup_after_bridge),
// and the transferred channel can bridge again in its new extension.
func (s *Session) leaveBridge() {
	s.mu.Lock()
	br := s.bridge
	s.mu.Unlock()
	if br != nil {
		s.unbridge(br)
	}
}

// afterBridgeB runs on the B-leg's goroutine when a bridge it was in ends without it leaving: the
// A side hung up (the A goroutine hangs us up too) or was transferred away (FreeSWITCH hangs the
// B-leg up unless something else took it).
func (s *Session) afterBridgeB(br *bridge) {
	s.unbridge(br)
	s.mu.Lock()
	newer := s.bridge != nil // already in the next bridge (taken, then uuid_bridged): not ours to end
	s.mu.Unlock()
	if s.ctx.Err() != nil || s.transferPending() || newer {
		return
	}
	if s.Taken() { // taken by another channel (intercept): it outlives the bridge
		return
	}
	a := br.other(s)
	if a.HungUp() {
		s.Hangup(a.HangupCause())
		return
	}
	if s.State() == StateExchangeMedia && s.vars.Value("park_after_bridge") != "true" {
		s.Hangup(CauseNormalClearing)
		return
	}
	s.setState(StatePark)
}

const takenKey = "core.taken"

// Take marks the channel as taken by another one (intercept, valet_park retrieval) and parks it
// once its application returns: the bridge it is in ends without it following its partner out,
// and its bridge application does not act on the failed or ended bridge. Call Break afterwards to
// interrupt the application. The mark lasts until the channel is bridged again.
func (s *Session) Take() {
	s.SetPrivate(takenKey, true)
	s.Park()
}

// LeaveBridge ends the bridge the channel is in, if any, without hanging anybody up: each side
// goes on as after its bridge ended (a taken channel parks).
func (s *Session) LeaveBridge() { s.leaveBridge() }

// Taken reports whether Take was called since the channel's last bridge began.
func (s *Session) Taken() bool {
	v, _ := s.Private(takenKey).(bool)
	return v
}
