package core

import (
	"context"
	"errors"
)

// UUIDBridge bridges two existing channels (uuid_bridge). Whatever a is doing is interrupted; the
// bridge runs on a's goroutine. When the bridge ends, a parks if park_after_bridge is true, else it
// hangs up like b, as FreeSWITCH does for channels joined by uuid_bridge.
func (h *Host) UUIDBridge(a, b *Session) error {
	if a == b {
		return errors.New("cannot bridge a channel to itself")
	}
	if a.HungUp() || b.HungUp() {
		return ErrHungUp
	}
	// b waits in CS_PARK so its own goroutine runs the bridge's commands.
	if b.State() != StatePark && b.State() != StateConsumeMedia && b.State() != StateExchangeMedia {
		b.Park()
		b.Break()
	}
	run := func() {
		_ = a.Bridge(context.Background(), b)
		if a.ctx.Err() != nil || a.Taken() {
			return
		}
		if a.vars.Value("park_after_bridge") == "true" {
			a.Park()
			return
		}
		a.Hangup(b.HangupCause())
	}
	a.redirect(&Route{Actions: []Action{{App: "_uuid_bridge"}}}, run)
	return nil
}
