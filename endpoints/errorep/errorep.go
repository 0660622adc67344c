// Package errorep is the "error" endpoint: error/<CAUSE> fails at once with that cause, as in
// FreeSWITCH (e.g. error/user_busy, error/user_not_registered from an expanded sofia_contact).
package errorep

import (
	"context"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterEndpoint(core.EndpointInfo{
		Name:   "error",
		Module: "mod_dptools",
		New:    func(h *core.Host) (core.Endpoint, error) { return endpoint{}, nil },
	})
}

type endpoint struct{}

func (endpoint) Name() string { return "error" }

// Originate fails with the named cause. FreeSWITCH maps NONE (or 0) to DESTINATION_OUT_OF_ORDER
// and, through str2cause, anything unknown to NORMAL_CLEARING.
func (endpoint) Originate(ctx context.Context, s *core.Session, target string) (core.Leg, error) {
	c := Cause(target)
	return nil, &core.CallError{Cause: c, Reason: "error/" + target}
}

// Cause returns the cause error/<target> fails with.
func Cause(target string) core.Cause {
	target = strings.TrimSpace(target)
	c := core.ParseCause(target)
	if c == core.CauseNone {
		return core.CauseDestinationOutOfOrder
	}
	return c
}
