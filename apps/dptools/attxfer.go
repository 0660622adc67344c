package dptools

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func init() {
	reg("att_xfer", "<channel_url>", "Attended Transfer", 0, attXfer)
}

// attXfer is FreeSWITCH's att_xfer, run by the transferor X (usually from bind_meta_app while it
// talks to P): P waits with hold music, X dials channel_url (origination_cancel_key gives up) and
// talks to the target T. Then attxfer_hangup_key (default *) or X hanging up joins P and T;
// attxfer_cancel_key (default #) or T hanging up brings X back to P. attxfer_conf_key (a
// three-way call) is not supported: the key is ignored.
func attXfer(ctx context.Context, x *core.Session, dial string) error {
	p := x.Peer()
	if p != nil {
		p.Take()
		x.Take()
		x.LeaveBridge()
		if !waitParked(ctx, p) {
			return nil
		}
		p.ExecuteActions([]core.Action{{App: "playback", Data: p.HoldMusic()}, {App: "park"}})
	}
	t, err := originateCancellable(ctx, x, dial)
	if err != nil {
		x.Log().Info("att_xfer: " + err.Error())
		return rejoin(ctx, x, p)
	}
	hangupKey, cancelKey := keyVar(x, "attxfer_hangup_key", '*'), keyVar(x, "attxfer_cancel_key", '#')
	var complete atomic.Bool
	x.SetDTMFHook(func(d media.DTMF) bool {
		switch d.Digit {
		case hangupKey:
			complete.Store(true)
			x.LeaveBridge()
		case cancelKey:
			t.Hangup(core.CauseNormalClearing)
		default:
			return false
		}
		return true
	})
	go func() { // T outlives X: X hanging up during the consultation completes the transfer
		for i := 0; i < 200 && x.Peer() != t && !t.HungUp() && !x.HungUp(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		t.Take()
	}()
	err = x.Bridge(ctx, t)
	x.SetDTMFHook(nil)
	if err != nil {
		x.Log().Info("att_xfer: bridge to target: " + err.Error())
	}
	if t.HungUp() || (!complete.Load() && !x.HungUp()) {
		t.Hangup(core.CauseNormalClearing)
		return rejoin(ctx, x, p)
	}
	if p == nil || p.HungUp() {
		x.Hangup(core.CauseNormalClearing)
		return nil
	}
	// Complete: P and T talk; X leaves.
	if !waitParked(context.WithoutCancel(ctx), t) {
		return nil
	}
	p.Take()
	p.Break()
	if err := x.Host().UUIDBridge(p, t); err != nil {
		x.Log().Info("att_xfer: joining the parties: " + err.Error())
	}
	x.Hangup(core.CauseAttendedTransfer)
	return nil
}

// originateCancellable dials for x; origination_cancel_key pressed by x gives up.
func originateCancellable(ctx context.Context, x *core.Session, dial string) (*core.Session, error) {
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	if v := x.Var("origination_cancel_key"); v != "" {
		key := []rune(v)[0]
		x.SetDTMFHook(func(d media.DTMF) bool {
			if d.Digit == key {
				cancel()
				return true
			}
			return false
		})
		defer x.SetDTMFHook(nil)
	}
	t, err := x.Host().Originate(octx, dial, core.OriginateOptions{Originator: x})
	if err == nil && t == nil {
		err = errors.New("no channel")
	}
	return t, err
}

// rejoin brings x back to p after a cancelled or failed consultation; when either is gone the
// other hangs up, as after a bridge.
func rejoin(ctx context.Context, x, p *core.Session) error {
	if p == nil {
		return nil
	}
	if x.HungUp() {
		p.Hangup(x.HangupCause())
		return nil
	}
	p.Take()
	p.Break()
	if !waitParked(ctx, p) {
		x.Hangup(p.HangupCause())
		return nil
	}
	if err := x.Bridge(ctx, p); err != nil {
		x.Log().Info("att_xfer: back to the caller: " + err.Error())
	}
	if p.HungUp() && !x.HungUp() {
		x.Hangup(p.HangupCause())
	}
	return nil
}

// waitParked waits (2 s at most) for s, just taken, to be parked; false when it hung up.
func waitParked(ctx context.Context, s *core.Session) bool {
	for i := 0; i < 200; i++ {
		if s.HungUp() {
			return false
		}
		if s.State() == core.StatePark && s.Peer() == nil {
			return true
		}
		if !core.Sleep(ctx, 10*time.Millisecond) {
			return false
		}
	}
	return !s.HungUp()
}

func keyVar(s *core.Session, name string, def rune) rune {
	if v := s.Var(name); v != "" {
		return []rune(v)[0]
	}
	return def
}
