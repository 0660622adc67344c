package conference

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterApp(core.AppInfo{
		Name: "conference_set_auto_outcall", Module: moduleName, Syntax: "<dialstring>",
		Short: "conference_set_auto_outcall", Flags: core.AppRoutingSafe, App: core.AppFunc(setAutoOutcall),
	})
}

const autoOutcallKey = "conference.auto_outcall"

// setAutoOutcall adds a dial string that the conference this channel creates calls when it
// starts (FreeSWITCH's conference_set_auto_outcall; call it once per party).
func setAutoOutcall(_ context.Context, s *core.Session, dial string) error {
	if dial = strings.TrimSpace(dial); dial == "" {
		return nil
	}
	list, _ := s.Private(autoOutcallKey).([]string)
	s.SetPrivate(autoOutcallKey, append(append([]string(nil), list...), dial))
	return nil
}

// outcall is one party a conference dials: its dial string and how it joins.
type outcall struct {
	dial, cidName, cidNum, flags, announce, profile string
	timeout                                         time.Duration
}

// autoOutcalls reads the conference_auto_outcall_* variables of the channel that created the
// conference, for each dial string it set.
func autoOutcalls(s *core.Session, profile string) []outcall {
	list, _ := s.Private(autoOutcallKey).([]string)
	if len(list) == 0 {
		return nil
	}
	flags := s.Var("conference_utils_auto_outcall_flags")
	if flags == "" {
		flags = s.Var("conference_auto_outcall_flags")
	}
	if flags == "none" {
		flags = ""
	}
	to := 60
	if n, err := strconv.Atoi(s.Var("conference_auto_outcall_timeout")); err == nil && n > 0 {
		to = n
	}
	if p := s.Var("conference_auto_outcall_profile"); p != "" {
		profile = p
	}
	cidName := firstNonEmpty(s.Var("conference_auto_outcall_caller_id_name"), s.Profile().CallerIDName)
	cidNum := firstNonEmpty(s.Var("conference_auto_outcall_caller_id_number"), s.Profile().CallerIDNumber)
	prefix := s.Var("conference_auto_outcall_prefix")
	var out []outcall
	for _, d := range list {
		out = append(out, outcall{dial: prefix + d, cidName: cidName, cidNum: cidNum, flags: flags,
			announce: s.Var("conference_auto_outcall_announce"), profile: profile, timeout: time.Duration(to) * time.Second})
	}
	return out
}

// dialOut calls one party into conference name; answered, it joins with oc's flags. The call runs
// on its own goroutine, owned by the module, which waits for it on stop.
func (m *Module) dialOut(name string, oc outcall) {
	ctx := m.base
	m.outcalls.Add(1)
	go func() {
		defer m.outcalls.Done()
		leg, err := m.h.Originate(ctx, oc.dial, core.OriginateOptions{
			Timeout: oc.timeout, CallerIDName: oc.cidName, CallerIDNumber: oc.cidNum,
			Vars: core.DialVars{{"conference_auto_outcall", "true"}, {"conference_name", name}},
		})
		if err != nil {
			m.h.Log.Info("conference outcall failed", "conference", name, "dial", oc.dial, "err", err)
			return
		}
		target := name + "@" + oc.profile
		if oc.flags != "" {
			target += "+flags{" + oc.flags + "}"
		}
		var acts []core.Action
		if oc.announce != "" {
			acts = append(acts, core.Action{App: "playback", Data: oc.announce})
		}
		leg.ExecuteActions(append(acts, core.Action{App: "conference", Data: target}))
	}()
}

// apiDial is "conference <name> dial|bgdial <endpoint>/<dest> [<cid_number>] [<cid_name>]".
func (c *Conference) apiDial(ctx context.Context, m *Module, rest []string, bg bool, w io.Writer) {
	if len(rest) == 0 {
		fmt.Fprint(w, "-ERR Usage: dial <endpoint_module_name>/<destination> <callerid number> <callerid name>\n")
		return
	}
	oc := outcall{dial: rest[0], profile: c.Profile.Name, timeout: core.DefaultOriginateTimeout}
	if len(rest) > 1 {
		oc.cidNum = rest[1]
	}
	if len(rest) > 2 {
		oc.cidName = strings.Join(rest[2:], " ")
	}
	if !bg {
		leg, err := m.h.Originate(ctx, oc.dial, core.OriginateOptions{Timeout: oc.timeout, CallerIDName: oc.cidName, CallerIDNumber: oc.cidNum})
		if err != nil {
			fmt.Fprintf(w, "-ERR %v\n", err)
			return
		}
		leg.ExecuteActions([]core.Action{{App: "conference", Data: c.Name + "@" + oc.profile}})
		fmt.Fprintf(w, "Call Requested: result: [SUCCESS]\n")
		return
	}
	m.dialOut(c.Name, oc)
	fmt.Fprint(w, "OK Job-UUID: "+c.UUID+"\n")
}
