// Command goswitch is the PBX daemon. It takes FreeSWITCH's command-line flags where they make
// sense, loads a FreeSWITCH-layout configuration tree (-conf DIR, else ./conf, else the embedded
// default tree) and runs until signalled: SIGHUP reloads the XML, SIGTERM drains calls then exits,
// SIGINT stops at once.
//
// Subcommands: `goswitch check [-conf DIR]` validates a configuration; `goswitch trace ... DEST`
// dry-runs the dialplan hunt for a call.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/codecs/opus"
	"github.com/goswitch/goswitch/conf"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "1.0.0-dev"

// subcommands are the non-daemon modes, dispatched on the first argument.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{}

func main() {
	if len(os.Args) > 1 {
		if run, ok := subcommands[os.Args[1]]; ok {
			os.Exit(run(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(daemon(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// setFlags collects repeated -set name=value.
type setFlags map[string]string

func (s setFlags) String() string { return "" }

func (s setFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("-set wants name=value, got %q", v)
	}
	s[strings.TrimSpace(k)] = val
	return nil
}

// options are the daemon's command line.
type options struct {
	conf, log, db, run, sounds, storage, recordings, certs, cfgname string
	nc, nf, console, nonat, version, insecure                       bool
	set                                                             setFlags
	drainTimeout                                                    time.Duration // -1: switch.conf's, else 30 s
	metrics                                                         string        // -metrics: listen address or off
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: setFlags{}}
	fl := flag.NewFlagSet("goswitch", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.conf, "conf", "", "configuration directory (holds freeswitch.xml)")
	fl.StringVar(&o.log, "log", "", "log directory")
	fl.StringVar(&o.db, "db", "", "database directory")
	fl.StringVar(&o.run, "run", "", "runtime directory (pid file)")
	fl.StringVar(&o.sounds, "sounds", "", "sounds directory")
	fl.StringVar(&o.storage, "storage", "", "storage directory (voicemail)")
	fl.StringVar(&o.recordings, "recordings", "", "recordings directory")
	fl.StringVar(&o.certs, "certs", "", "TLS certificates directory")
	fl.StringVar(&o.cfgname, "cfgname", "freeswitch.xml", "root configuration file name")
	fl.BoolVar(&o.nc, "nc", false, "no console (run in the background; goswitch never forks)")
	fl.BoolVar(&o.nf, "nf", false, "no fork (accepted for compatibility; goswitch never forks)")
	fl.BoolVar(&o.console, "c", false, "run with an interactive console on stdin")
	fl.BoolVar(&o.nonat, "nonat", false, "disable NAT traversal (accepted; goswitch does no UPnP/NAT-PMP)")
	fl.BoolVar(&o.insecure, "insecure", false, "run with unsafe defaults (password 1234 from public addresses, ESL ClueCon off loopback), warning loudly instead of refusing")
	fl.BoolVar(&o.version, "version", false, "print the version and exit")
	fl.Var(o.set, "set", "override a $${global} at start: -set name=value (repeatable)")
	fl.StringVar(&o.metrics, "metrics", "", "Prometheus /metrics and pprof listen address, loopback only (default: switch.conf metrics-listen, else 127.0.0.1:8080; off disables)")
	fl.DurationVar(&o.drainTimeout, "drain-timeout", -1, "on SIGTERM, wait this long for calls to end, then hang them up (default: switch.conf drain-timeout-sec, else 30s)")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	return o, nil
}

// confSource picks the configuration: -conf, else ./conf when it holds the root file, else the
// embedded default tree.
func confSource(dir, file string) (string, fs.FS) {
	if dir != "" {
		return dir, nil
	}
	if _, err := os.Stat(filepath.Join("conf", file)); err == nil {
		return "conf", nil
	}
	return "", conf.FS
}

// loadOptions builds the xmlconf options for the chosen tree and the command-line directories.
func (o *options) loadOptions() xmlconf.Options {
	dir, fsys := confSource(o.conf, o.cfgname)
	g := xmlconf.BuiltinGlobals(dir)
	for name, v := range map[string]string{
		"log_dir": o.log, "db_dir": o.db, "run_dir": o.run, "sounds_dir": o.sounds,
		"storage_dir": o.storage, "recordings_dir": o.recordings, "certs_dir": o.certs,
	} {
		if v != "" {
			if abs, err := filepath.Abs(v); err == nil {
				v = abs
			}
			g[name] = v
		}
	}
	if o.sounds != "" {
		g["sound_prefix"] = g["sounds_dir"]
	}
	return xmlconf.Options{Dir: dir, FS: fsys, File: o.cfgname, Globals: g, Overrides: o.set}
}

func dirsFrom(g map[string]string) core.Dirs {
	return core.Dirs{
		Base: g["base_dir"], Conf: g["conf_dir"], Log: g["log_dir"], DB: g["db_dir"],
		Run: g["run_dir"], Sounds: g["sounds_dir"], Storage: g["storage_dir"],
		Recordings: g["recordings_dir"], Certs: g["certs_dir"], Scripts: g["script_dir"],
		Temp: g["temp_dir"],
	}
}

func daemon(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// fsctl shutdown ... restart: once everything below has stopped and closed (this runs last),
	// start again in this process, as FreeSWITCH re-executes itself.
	restart := false
	defer func() {
		if restart {
			reexec(stderr)
		}
	}()
	args, fsc, err := fsStartFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "goswitch:", err)
		return 2
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "goswitch:", err)
		return 2
	}
	if o.version {
		fmt.Fprintf(stdout, "goswitch version %s\n", version)
		return 0
	}
	if fsc.ncwait {
		return fsc.background(stdout, stderr)
	}
	if err := fsc.switchUser(); err != nil {
		fmt.Fprintln(stderr, "goswitch:", err)
		return 1
	}
	lo := o.loadOptions()
	for k, v := range fsc.globals {
		lo.Globals[k] = v
	}
	dirs := dirsFrom(lo.Globals)
	if fsc.stop {
		return stopRunning(dirs.Run, stdout, stderr)
	}
	for _, d := range []string{dirs.Log, dirs.DB, dirs.Run} {
		if d != "" {
			if err := os.MkdirAll(d, 0o755); err != nil {
				fmt.Fprintln(stderr, "goswitch:", err)
				return 1
			}
		}
	}
	logger, logHandler, err := newLogger(dirs.Log, stderr, !o.nc)
	if err != nil {
		fmt.Fprintln(stderr, "goswitch:", err)
		return 1
	}
	defer logHandler.Close()
	h, err := core.NewHost(core.HostOptions{
		Log:      logger,
		LogLevel: logHandler.Level(),
		Dirs:     dirs,
		Version:  version,
		IPv4:     lo.Globals["local_ip_v4"],
		IPv6:     lo.Globals["local_ip_v6"],
		Insecure: o.insecure,
		Load: func() (*xmlconf.Snapshot, error) {
			return xmlconf.Load(lo)
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, "goswitch: cannot load configuration:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	where := lo.Dir
	if where == "" {
		where = "embedded default configuration"
	}
	logger.Info("goswitch starting", "version", version, "conf", where)
	raiseNoFile(logger)
	applyMemoryLimit(h, logger)
	if !opus.Available {
		logger.Warn("Opus codec unavailable: OPUS in codec prefs is skipped", "reason", opus.Err())
	}
	logStartFindings(logger, h.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "goswitch: start:", err)
		_ = h.Stop(context.Background(), core.CauseSystemShutdown)
		return 1
	}
	stopMetrics, err := startMetrics(h, o.metrics, o.insecure, logger)
	if err != nil {
		fmt.Fprintln(stderr, "goswitch:", err)
		_ = h.Stop(context.Background(), core.CauseSystemShutdown)
		return 1
	}
	defer stopMetrics()
	if dirs.Run != "" {
		pid := filepath.Join(dirs.Run, "goswitch.pid")
		_ = os.WriteFile(pid, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
		defer os.Remove(pid)
	}
	// Signals are ours before "ready" is said: a supervisor (or a test) that signals as soon as
	// it reads it must not meet the default action, which kills without draining.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	logger.Info("goswitch ready", "sessions_max", func() int64 { _, _, m, _ := h.SessionStats(); return m }())
	defer fsc.started(dirs.Run)()
	consoleDone := make(chan struct{})
	if o.console {
		go runConsole(ctx, h, stdin, stdout, consoleDone)
	}
	requests := h.Bus.SubscribeTo(event.Interest{Names: []string{event.ShutdownRequested}}, nil, 8)
	defer requests.Close()
	var idle <-chan struct{}      // closed when no calls are left, during an elegant/asap shutdown
	var drainEnd <-chan time.Time // the SIGTERM drain's deadline, once draining
	var stopIdle chan struct{}    // closing it abandons the wait
	defer func() {
		if stopIdle != nil {
			close(stopIdle)
		}
	}()
	for {
		select {
		case <-consoleDone:
			logger.Info("console closed, shutting down")
			return shutdown(h, core.CauseManagerRequest, 0)
		case e := <-requests.C():
			mode := e.Get("Shutdown-Mode")
			restart = e.Get("Shutdown-Restart") == "true"
			switch mode {
			case "cancel":
				restart = false
				if stopIdle != nil && drainEnd == nil {
					close(stopIdle)
					stopIdle, idle = nil, nil
					h.SetPaused(false)
					logger.Info("shutdown cancelled")
				}
			case "elegant", "asap":
				if mode == "asap" {
					h.BeginDrain() // FreeSWITCH's SCF_NO_NEW_SESSIONS; elegant still takes calls
				}
				logger.Info("shutdown requested: waiting for calls to end", "mode", mode)
				if stopIdle == nil {
					stopIdle = make(chan struct{})
					idle = waitIdle(stopIdle, h)
				}
			default: // now
				logger.Info("shutdown requested", "mode", mode, "restart", restart)
				return shutdown(h, core.CauseManagerRequest, 0)
			}
		case <-idle:
			logger.Info("no calls left: shutting down")
			return shutdown(h, core.CauseManagerRequest, 0)
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				// FreeSWITCH's TRAP event makes cdr_csv rotate and log files reopen; goswitch also
				// reloads the XML, so an admin has one signal for "pick up my changes".
				trap := h.Bus.New(event.Trap, "")
				trap.Add("Trapped-Signal", "HUP")
				h.Bus.Publish(trap)
				_ = logHandler.Reopen()
				if err := h.Reload(); err != nil {
					logger.Error("reloadxml on SIGHUP failed; previous configuration kept", "err", err)
				} else {
					logger.Info("configuration reloaded on SIGHUP")
				}
			case syscall.SIGTERM, syscall.SIGINT:
				restart = false // a signal means stop
				if drainEnd != nil {
					// A second signal while draining: the operator does not want to wait.
					logger.Warn("second signal during drain: stopping now", "signal", sig.String(), "calls", h.SessionCount())
					return shutdownWithin(h, core.CauseSystemShutdown, 0, 2*time.Second)
				}
				if sig == syscall.SIGINT {
					logger.Info("SIGINT: stopping")
					return shutdown(h, core.CauseSystemShutdown, 0)
				}
				d := drainTimeout(h, o.drainTimeout)
				logger.Warn("SIGTERM: draining calls, new calls refused with 503; a second SIGTERM or SIGINT stops at once",
					"calls", h.SessionCount(), "deadline", d)
				h.BeginDrain()
				drainEnd = time.After(d)
				if stopIdle == nil {
					stopIdle = make(chan struct{})
					idle = waitIdle(stopIdle, h)
				}
			}
		case <-drainEnd:
			logger.Warn("drain deadline passed: hanging up the calls left", "calls", h.SessionCount())
			return shutdown(h, core.CauseSystemShutdown, 0)
		}
	}
}

func shutdown(h *core.Host, cause core.Cause, code int) int {
	return shutdownWithin(h, cause, code, 10*time.Second)
}

// shutdownWithin hangs up every call and stops the modules, waiting at most d for them.
func shutdownWithin(h *core.Host, cause core.Cause, code int, d time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := h.Stop(ctx, cause); err != nil {
		h.Log.Error("stop", "err", err)
	}
	return code
}

// runConsole reads commands from stdin and runs them as API commands, like FreeSWITCH's -c console.
func runConsole(ctx context.Context, h *core.Host, in io.Reader, out io.Writer, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(in)
	prompt := func() { fmt.Fprintf(out, "goswitch@%s> ", h.Bus.Identity().Switchname) }
	prompt()
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
			prompt()
			continue
		case "...", "/exit", "/quit", "/bye", "shutdown":
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		out2, err := h.APIOutput(ctx, cmd, args)
		if err != nil && out2 == "" {
			out2 = "-ERR " + err.Error() + "\n"
		}
		fmt.Fprint(out, out2)
		if !strings.HasSuffix(out2, "\n") {
			fmt.Fprintln(out)
		}
		prompt()
	}
}

// newLogger builds the daemon's logger: FreeSWITCH's console format on stderr (unless -nc) and
// <log_dir>/goswitch.log, at a level the console can change at run time.
func newLogger(logDir string, console io.Writer, toConsole bool) (*slog.Logger, *logging.Handler, error) {
	opts := logging.Options{Writer: console}
	if !toConsole {
		opts.Writer = io.Discard
	}
	if logDir != "" {
		opts.File = filepath.Join(logDir, "goswitch.log")
	}
	h, err := logging.New(opts)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(h), h, nil
}

// waitIdle returns a channel closed once the host has no calls, unless stop is closed first.
func waitIdle(stop <-chan struct{}, h *core.Host) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for h.SessionCount() > 0 {
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
		close(done)
	}()
	return done
}
