package dptools

import (
	"context"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterDialplan(core.DialplanInfo{
		Name: "inline",
		New:  func(h *core.Host) (core.Dialplan, error) { return inlineDialplan{}, nil },
	})
}

// inlineDialplan is FreeSWITCH's "inline" dialplan: the destination itself is the action list,
// "app1:arg1,app2:arg2" (a leading "m:<d>:" picks another delimiter), as in
// `originate user/1000 'playback:foo.wav,hangup' inline` or `transfer 'echo' inline`.
type inlineDialplan struct{}

func (inlineDialplan) Hunt(ctx context.Context, s *core.Session, dest, context string) (*core.Route, error) {
	actions := ParseInline(dest)
	if len(actions) == 0 {
		return nil, core.ErrNoRoute
	}
	return &core.Route{Context: context, Extensions: []string{"inline"}, Actions: actions}, nil
}

// ParseInline splits an inline dialplan string into actions.
func ParseInline(s string) []core.Action {
	delim := ","
	if rest, ok := strings.CutPrefix(s, "m:"); ok && len(rest) > 1 && rest[1] == ':' {
		delim, s = rest[:1], rest[2:]
	}
	var out []core.Action
	for _, item := range strings.Split(s, delim) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		app, arg, _ := strings.Cut(item, ":")
		out = append(out, core.Action{App: strings.TrimSpace(app), Data: arg, Extension: "inline", Inline: true})
	}
	return out
}
