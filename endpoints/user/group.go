package user

import (
	"context"
	"io"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterEndpoint(core.EndpointInfo{
		Name:   "group",
		Module: "mod_dptools",
		New:    func(h *core.Host) (core.Endpoint, error) { return &groupEndpoint{h: h}, nil },
	})
	core.RegisterAPI(core.APIInfo{
		Name:   "group_call",
		Syntax: "<group>[@<domain>][+F|+A|+E]",
		Short:  "Generate a dial string to call a group",
		Module: "mod_dptools",
		Fn: func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
			_, err := w.Write([]byte(groupDial(h, strings.TrimSpace(args), nil)))
			return err
		},
	})
}

// groupEndpoint is group/<group>@<domain>[+A|+F|+E]: every user of a directory group, rung at
// once (+A, the default), one after another (+F), or as an enterprise originate (+E).
type groupEndpoint struct{ h *core.Host }

func (e *groupEndpoint) Name() string { return "group" }

func (e *groupEndpoint) Originate(ctx context.Context, s *core.Session, target string) (core.Leg, error) {
	return nil, core.Fail(core.CauseChanNotImplemented, "group/ targets are resolved, not dialled")
}

func (e *groupEndpoint) Resolve(ctx context.Context, target string, vars *core.Vars) (string, error) {
	dial := groupDial(e.h, target, vars)
	if dial == "" || strings.HasPrefix(dial, "error/") {
		return "", core.Fail(core.CauseNoRouteDestination, "empty group "+target)
	}
	return dial, nil
}

// groupDial builds the dial string for a group: user/<id>@<domain> per member, joined by the
// separator the suffix asks for. An empty group gives error/NO_ROUTE_DESTINATION, as FreeSWITCH's
// group_call does.
func groupDial(h *core.Host, target string, vars *core.Vars) string {
	sep := ","
	switch {
	case strings.HasSuffix(target, "+F"):
		sep, target = "|", strings.TrimSuffix(target, "+F")
	case strings.HasSuffix(target, "+E"):
		sep, target = ":_:", strings.TrimSuffix(target, "+E")
	case strings.HasSuffix(target, "+A"):
		target = strings.TrimSuffix(target, "+A")
	}
	group, domain, _ := strings.Cut(target, "@")
	if domain == "" && vars != nil {
		domain = vars.Value("domain_name")
	}
	if domain == "" {
		domain, _ = h.Global("domain")
	}
	dir := h.Config().Directory()
	if dir == nil {
		return "error/NO_ROUTE_DESTINATION"
	}
	var parts []string
	for _, u := range dir.GroupUsers(domain, group) {
		parts = append(parts, "user/"+u.ID+"@"+domain)
	}
	if len(parts) == 0 {
		return "error/NO_ROUTE_DESTINATION"
	}
	return strings.Join(parts, sep)
}
