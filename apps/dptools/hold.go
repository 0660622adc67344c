package dptools

import (
	"context"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// hold and unhold put the channel's far end on hold (a re-INVITE with a=sendonly) and play the
// channel's hold music to its bridged partner, as FreeSWITCH's switch_ivr_hold does; typically run
// from bind_meta_app while bridged.
func init() {
	reg("hold", "[<display message>]", "Send a hold message", noMedia, holdApp(true))
	reg("unhold", "", "Send a un-hold message", noMedia, holdApp(false))
}

func holdApp(on bool) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		if on == s.Holding() {
			if on {
				s.Log().Warn("Call is already on hold. No need to hold again.")
			} else {
				s.Log().Warn("Call is not on hold. No need to unhold.")
			}
			return nil
		}
		kind := "unhold"
		if on {
			kind = "hold"
		}
		if l := s.Leg(); l != nil {
			if err := l.Indicate(ctx, core.Indication{Kind: kind, Data: strings.TrimSpace(args)}); err != nil {
				s.Log().Warn(kind+" failed", "err", err)
			}
		}
		s.MarkHold(on)
		return nil
	}
}
