package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/goswitch/goswitch/conf"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/dialplan"
)

const traceUsage = `usage: goswitch trace [-conf DIR] [-context C] [-cid NUMBER] [-cid-name NAME]
                      [-network-addr IP] [-time RFC3339] [-var name=value]... DESTINATION

Dry run of the XML dialplan hunt for a call to DESTINATION: prints the lines
FreeSWITCH logs while hunting ("Dialplan: ..."), then the route, one action a
line. Inline actions run during the hunt; nothing else is executed.
Exit status: 0 when the hunt collected actions, 1 on NO_ROUTE_DESTINATION.
`

// traceEnv is what a test may change about the environment of a trace.
type traceEnv struct {
	// globals replaces the built-in globals (local_ip_v4, hostname, ...) the
	// preprocessor starts from; nil means the machine's.
	globals  func(confDir string) map[string]string
	embedded fs.FS
}

// runTrace implements `goswitch trace`.
func runTrace(args []string, stdout, stderr io.Writer) int {
	return traceWith(traceEnv{embedded: conf.FS}, args, stdout, stderr)
}

type traceVarFlags [][2]string

func (v *traceVarFlags) String() string { return "" }

func (v *traceVarFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	*v = append(*v, [2]string{name, value})
	return nil
}

func traceWith(env traceEnv, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trace", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, traceUsage) }
	var (
		confDir = fl.String("conf", "", "configuration directory (default ./conf if present, else the embedded tree)")
		ctxName = fl.String("context", "default", "dialplan context")
		cid     = fl.String("cid", "0000000000", "caller id number")
		cidName = fl.String("cid-name", "FreeSWITCH", "caller id name")
		netAddr = fl.String("network-addr", "127.0.0.1", "caller's network address")
		at      = fl.String("time", "", "moment of the call, RFC 3339 (its offset is the zone time conditions use)")
		vars    traceVarFlags
	)
	fl.Var(&vars, "var", "channel variable name=value (repeatable)")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	dest := fl.Arg(0)

	now := time.Now
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "goswitch trace: -time: %v\n", err)
			return 2
		}
		now = func() time.Time { return t }
	}

	opts := xmlconf.Options{}
	switch {
	case *confDir != "":
		opts.Dir = *confDir
	case traceIsDir("conf"):
		opts.Dir = "conf"
	default:
		opts.FS = env.embedded
	}
	if env.globals != nil {
		opts.Globals = env.globals(opts.Dir)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := core.NewHost(core.HostOptions{
		Log:  logger,
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(opts) },
	})
	if err != nil {
		fmt.Fprintf(stderr, "goswitch trace: %v\n", err)
		return 2
	}
	dp, err := dialplan.FromSnapshot(h.Config())
	if err != nil {
		fmt.Fprintf(stderr, "goswitch trace: %v\n", err)
		return 2
	}

	sofiaProfile := "internal"
	if strings.EqualFold(*ctxName, "public") {
		sofiaProfile = "external"
	}
	name := "sofia/" + sofiaProfile + "/" + *cid + "@" + *netAddr
	s := core.NewSession(h, core.SessionOptions{
		Name:      name,
		Direction: core.Inbound,
		Profile: &core.CallerProfile{
			Username:       *cid,
			Dialplan:       dialplan.Name,
			CallerIDName:   *cidName,
			CallerIDNumber: *cid,
			ANI:            *cid,
			NetworkAddr:    *netAddr,
			DestNumber:     dest,
			Source:         "mod_sofia",
			Context:        *ctxName,
			ChanName:       name,
		},
		Vars: vars,
		Now:  now,
	})

	route, err := dp.Hunt(context.Background(), s, dialplan.Hunt{
		Context: *ctxName,
		Dest:    dest,
		Trace: func(level slog.Level, line string) {
			switch {
			case level == slog.LevelDebug:
				fmt.Fprintln(stdout, line)
			case level >= slog.LevelError:
				fmt.Fprintln(stderr, "[ERR] "+line)
			case level >= slog.LevelWarn:
				fmt.Fprintln(stderr, "[WARNING] "+line)
			default:
				fmt.Fprintln(stderr, "[INFO] "+line)
			}
		},
	})
	if errors.Is(err, dialplan.ErrNoRoute) {
		fmt.Fprintln(stderr, "[NOTICE] No Route, Aborting")
		fmt.Fprintln(stderr, "[NOTICE] Hangup "+name+" [CS_ROUTING] [NO_ROUTE_DESTINATION]")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "goswitch trace: %v\n", err)
		return 2
	}
	for _, a := range route.Actions {
		kind := "Action"
		if a.Anti {
			kind = "ANTI-Action"
		}
		fmt.Fprintf(stdout, "%s %s(%s)\n", kind, a.App, a.Data)
	}
	return 0
}

func traceIsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
