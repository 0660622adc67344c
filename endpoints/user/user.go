// Package user is the "user" endpoint: user/<id>[@<domain>] looks the user up in the directory and
// dials the user's dial-string (domain, group or user param), expanded with dialed_user and
// dialed_domain, the way FreeSWITCH's mod_dptools user endpoint does.
package user

import (
	"context"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterEndpoint(core.EndpointInfo{
		Name:   "user",
		Module: "mod_dptools",
		New:    func(h *core.Host) (core.Endpoint, error) { return &endpoint{h: h}, nil },
	})
}

type endpoint struct{ h *core.Host }

func (e *endpoint) Name() string { return "user" }

// Originate is never reached: the core calls Resolve for endpoints that implement it.
func (e *endpoint) Originate(ctx context.Context, s *core.Session, target string) (core.Leg, error) {
	return nil, core.Fail(core.CauseChanNotImplemented, "user/ targets are resolved, not dialled")
}

// Resolve returns the user's expanded dial-string. vars are the new leg's variables; the user's
// directory variables are added to them (without overriding what the caller set).
func (e *endpoint) Resolve(ctx context.Context, target string, vars *core.Vars) (string, error) {
	id, domain, _ := strings.Cut(target, "@")
	if domain == "" {
		domain = vars.Value("domain_name")
	}
	if domain == "" {
		domain, _ = e.h.Global("domain")
	}
	if id == "" {
		return "", core.Fail(core.CauseInvalidNumberFormat, "user/ needs a user id")
	}
	dir := e.h.Config().Directory()
	if dir == nil {
		return "", core.Fail(core.CauseSubscriberAbsent, "no directory")
	}
	u := dir.User(id, domain)
	if u == nil {
		return "", core.Fail(core.CauseSubscriberAbsent, "no user "+id+"@"+domain)
	}
	dial := u.Param("dial-string")
	if dial == "" {
		return "", core.Fail(core.CauseMandatoryIEMissing, "user "+id+"@"+domain+" has no dial-string")
	}
	vars.Set("dialed_user", id)
	vars.Set("dialed_domain", domain)
	// dial-var-<name> params are variables for the dial string itself (they win over the
	// caller's); <variables> are the leg's own and change nothing the callee is shown.
	for _, kv := range u.Params {
		if len(kv.Name) > len("dial-var-") && strings.EqualFold(kv.Name[:len("dial-var-")], "dial-var-") {
			vars.Set(kv.Name[len("dial-var-"):], kv.Value)
		}
	}
	for _, kv := range u.Vars {
		if _, set := vars.Get(kv.Name); !set {
			vars.Set(kv.Name, kv.Value)
		}
	}
	if _, set := vars.Get("presence_id"); !set {
		vars.Set("presence_id", id+"@"+domain)
	}
	x := core.Expander{
		Var: func(name string) (string, bool) {
			if v, ok := vars.Get(name); ok {
				return v, true
			}
			if s, ok := core.SessionFromContext(ctx); ok {
				if v := s.Var(name); v != "" {
					return v, true
				}
			}
			return e.h.Global(name)
		},
		Global: e.h.Global,
		API: func(cmd, args string) string {
			out, _ := e.h.APIOutput(ctx, cmd, args)
			return strings.TrimRight(out, "\n")
		},
	}
	return x.Expand(dial), nil
}
