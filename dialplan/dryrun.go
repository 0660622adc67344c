package dialplan

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

// DryRun describes a call for a dry-run hunt (`goswitch trace`, console API
// dialplan_trace): the hunt runs on a session that is never started, so only
// inline actions execute.
type DryRun struct {
	Context     string // default "default"
	Dest        string
	CIDNumber   string // default "0000000000", FreeSWITCH's default caller id
	CIDName     string // default "FreeSWITCH"
	NetworkAddr string // default 127.0.0.1
	// Time is the moment of the call; its location is the zone time
	// conditions read unless tod_tz_offset or timezone is set. Zero: now.
	Time time.Time
	Vars [][2]string // channel variables, in order
}

// DryRunSyntax is the argument syntax shared by the trace command and API.
const DryRunSyntax = "[-context C] [-cid NUMBER] [-cid-name NAME] [-network-addr IP] [-time RFC3339] [-var name=value]... DESTINATION"

type varList [][2]string

func (v *varList) String() string { return "" }

func (v *varList) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	*v = append(*v, [2]string{name, value})
	return nil
}

// AddFlags registers the dry-run flags on fl, filling d when fl is parsed.
// Call Finish after parsing.
func (d *DryRun) AddFlags(fl *flag.FlagSet) {
	fl.StringVar(&d.Context, "context", "default", "dialplan context")
	fl.StringVar(&d.CIDNumber, "cid", "0000000000", "caller id number")
	fl.StringVar(&d.CIDName, "cid-name", "FreeSWITCH", "caller id name")
	fl.StringVar(&d.NetworkAddr, "network-addr", "127.0.0.1", "caller's network address")
	fl.Func("time", "moment of the call, RFC 3339; its offset is the zone time conditions use", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return err
		}
		d.Time = t
		return nil
	})
	fl.Var((*varList)(&d.Vars), "var", "channel variable name=value (repeatable)")
}

// Finish takes the destination from the parsed flag set's arguments.
func (d *DryRun) Finish(fl *flag.FlagSet) error {
	if fl.NArg() != 1 {
		return errors.New("want exactly one DESTINATION")
	}
	d.Dest = fl.Arg(0)
	return nil
}

// Name is the channel name the dry run uses: like an inbound SIP call on
// the internal profile, or the external one for the public context.
func (d *DryRun) Name() string {
	profile := "internal"
	if strings.EqualFold(d.Context, "public") {
		profile = "external"
	}
	return "sofia/" + profile + "/" + d.CIDNumber + "@" + d.NetworkAddr
}

// Run hunts on h's current configuration. Trace gets every line; the route
// is returned, or core.ErrNoRoute.
func (d *DryRun) Run(ctx context.Context, h *core.Host, trace Tracer) (*core.Route, error) {
	dp, err := FromSnapshot(h.Config())
	if err != nil {
		return nil, err
	}
	if d.Context == "" {
		d.Context = "default"
	}
	now := time.Now
	if !d.Time.IsZero() {
		t := d.Time
		now = func() time.Time { return t }
	}
	name := d.Name()
	s := core.NewSession(h, core.SessionOptions{
		Name:      name,
		Direction: core.Inbound,
		Profile: &core.CallerProfile{
			Username:       d.CIDNumber,
			Dialplan:       Name,
			CallerIDName:   d.CIDName,
			CallerIDNumber: d.CIDNumber,
			ANI:            d.CIDNumber,
			NetworkAddr:    d.NetworkAddr,
			DestNumber:     d.Dest,
			Source:         "mod_sofia",
			Context:        d.Context,
			ChanName:       name,
		},
		Vars: d.Vars,
		Now:  now,
	})
	return dp.Hunt(ctx, s, Hunt{Context: d.Context, Dest: d.Dest, Trace: trace})
}

// WriteRoute prints a route the way `goswitch trace` does: one action a
// line at column 0, "Action app(data)" or "ANTI-Action app(data)".
func WriteRoute(w io.Writer, r *core.Route) {
	for _, a := range r.Actions {
		kind := "Action "
		if a.Anti {
			kind = "ANTI-Action "
		}
		io.WriteString(w, kind+a.App+"("+a.Data+")\n")
	}
}

func init() {
	core.RegisterAPI(core.APIInfo{
		Name:   "dialplan_trace",
		Syntax: DryRunSyntax,
		Short:  "Dry run of the XML dialplan hunt for a call",
		Module: "mod_dialplan_xml",
		Fn:     apiDialplanTrace,
	})
}

// apiDialplanTrace is the console twin of `goswitch trace`, on the live
// configuration.
func apiDialplanTrace(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	var d DryRun
	fl := flag.NewFlagSet("dialplan_trace", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	d.AddFlags(fl)
	if err := fl.Parse(core.SplitArgs(args, 0)); err != nil {
		return fmt.Errorf("-USAGE: %s", DryRunSyntax)
	}
	if err := d.Finish(fl); err != nil {
		return fmt.Errorf("-USAGE: %s", DryRunSyntax)
	}
	r, err := d.Run(ctx, h, func(level slog.Level, line string) {
		if level == slog.LevelDebug {
			io.WriteString(w, line+"\n")
		} else if level >= slog.LevelWarn {
			io.WriteString(w, "["+levelName(level)+"] "+line+"\n")
		}
	})
	if errors.Is(err, core.ErrNoRoute) {
		io.WriteString(w, "-ERR NO_ROUTE_DESTINATION\n")
		return nil
	}
	if err != nil {
		return err
	}
	WriteRoute(w, r)
	return nil
}

// levelName is FreeSWITCH's name for a log level.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}
