package api

import (
	"context"
	"io"

	"github.com/goswitch/goswitch/core"
)

// ban lists and lifts the host's bans (core/security): the same table SIP profiles and the
// event socket ban into. `sofia ban ...` is the same command.
func init() {
	register("ban", "list | add <ip> [seconds] [reason] | del <ip>|all", "List, add and lift banned sources", apiBan)
}

func apiBan(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	h.Bans.Command(ctx, args, w)
	return nil
}
