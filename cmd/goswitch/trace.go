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

func traceWith(env traceEnv, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("trace", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(stderr, traceUsage)
		fl.PrintDefaults()
	}
	confDir := fl.String("conf", "", "configuration directory (default ./conf if present, else the embedded tree)")
	var d dialplan.DryRun
	d.AddFlags(fl)
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := d.Finish(fl); err != nil {
		fl.Usage()
		return 2
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
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(opts) },
	})
	if err != nil {
		fmt.Fprintf(stderr, "goswitch trace: %v\n", err)
		return 2
	}
	route, err := d.Run(context.Background(), h, func(level slog.Level, line string) {
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
	})
	if errors.Is(err, core.ErrNoRoute) {
		fmt.Fprintln(stderr, "[NOTICE] No Route, Aborting")
		fmt.Fprintln(stderr, "[NOTICE] Hangup "+d.Name()+" [CS_ROUTING] [NO_ROUTE_DESTINATION]")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "goswitch trace: %v\n", err)
		return 2
	}
	dialplan.WriteRoute(stdout, route)
	return 0
}

func traceIsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
