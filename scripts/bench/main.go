// Command bench is goswitch's one-command performance run: it builds goswitch, starts it on
// the load configuration (internal/loadconf: the one scripts/load-sip.sh generates, with
// digest auth and an event socket), runs
//
//	(a) the CPS ramp: SIPp (scripts/sipp/uac_auth.xml) places authenticated INVITEs to an
//	    extension that answers and echoes, each held -cps-hold, at each rate of -cps for
//	    -cps-secs seconds;
//	(b) the bridged-call ramp: scripts/loadgen holds each N of -bridged concurrent bridged
//	    calls with PCMU RTP both ways through goswitch for -hold;
//
// and prints one table: offered/achieved, failed, setup p50/p99, goswitch CPU-ms per call and
// % of a core per bridged call, end-to-end RTP and added jitter, goswitch's RSS peak and its
// RSS -after the step (default 60 s). Every process it starts is killed when it ends.
//
//	go run ./scripts/bench                                       # all steps
//	go run ./scripts/bench -cps 400,800 -bridged 500,2000 -after 10s -profile /tmp/prof
//	go run ./scripts/bench -pbx "/usr/bin/freeswitch -nc -nf" -sip 127.0.0.1:5060 -uas 127.0.0.1:15100 -esl-pass ClueCon
//
// With -pbx the command is run (sh -c) instead of the built goswitch; its configuration must
// route b<N> to sofia/external/b<N>@<-uas> and echo to an answering echo, and -pid names the
// process to measure when the command is a wrapper (default: the command's own pid).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/internal/loadconf"
)

type options struct {
	cps, bridged       []int
	cpsSecs            int
	cpsHold, hold      time.Duration
	after              time.Duration
	rate, sockets      int
	pbx, sip, uas, esl string
	eslPass            string
	pid                int
	profile            string
	metrics            string
	keep               bool
	lgflags            string
	maxLag             string
}

func main() {
	var o options
	var cps, bridged string
	flag.StringVar(&cps, "cps", "200,400,800,1000", "CPS ramp: calls per second of each step (empty: none)")
	flag.StringVar(&bridged, "bridged", "200,500,1000,2000", "bridged-call ramp: concurrent calls of each step (empty: none)")
	flag.IntVar(&o.cpsSecs, "cps-secs", 10, "seconds of calls per CPS step")
	flag.DurationVar(&o.cpsHold, "cps-hold", time.Second, "how long each CPS call stays up")
	flag.DurationVar(&o.hold, "hold", 30*time.Second, "how long each bridged step holds all its calls (the measured phase)")
	flag.DurationVar(&o.after, "after", 60*time.Second, "wait after each step before reading goswitch's RSS again")
	flag.IntVar(&o.rate, "rate", 200, "bridged steps: calls per second of the ramp and of the hangups")
	flag.IntVar(&o.sockets, "sockets", 16, "loadgen RTP sockets per side")
	flag.StringVar(&o.pbx, "pbx", "", "run this PBX command line instead of building goswitch (see the package doc)")
	flag.StringVar(&o.sip, "sip", "127.0.0.1:5060", "with -pbx: its SIP address for the calls")
	flag.StringVar(&o.uas, "uas", "127.0.0.1:15100", "with -pbx: the loadgen's SIP address its b<N> bridge reaches")
	flag.StringVar(&o.esl, "esl", "127.0.0.1:8021", "with -pbx: its event socket")
	flag.StringVar(&o.eslPass, "esl-pass", "ClueCon", "with -pbx: its event socket password")
	flag.IntVar(&o.pid, "pid", 0, "with -pbx: the pid to measure (default: the command's)")
	flag.StringVar(&o.profile, "profile", "", "directory for a goswitch CPU profile (pprof) of each bridged step's hold")
	flag.StringVar(&o.metrics, "metrics", "", "goswitch's metrics/pprof address (default: a free loopback port)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (configuration, logs, SIPp traces) and print its path")
	flag.StringVar(&o.lgflags, "lgflags", "", "extra loadgen flags for the bridged steps (e.g. \"-cpuprofile /tmp/lg.pprof\")")
	flag.StringVar(&o.maxLag, "max-lag-ms", "", "goswitch's max-scheduling-lag-ms (0: no overload shedding; default: goswitch's)")
	flag.Parse()
	var err error
	if o.cps, err = ints(cps); err == nil {
		o.bridged, err = ints(bridged)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// target is the PBX under test.
type target struct {
	pid           int
	sip, uas, esl string
	eslPass       string
	pprof         string // http://host:port of /debug/pprof, or ""
	stop          func()
}

func bench(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "goswitch-bench.")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("== work directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	fmt.Println("== building loadgen")
	lg := filepath.Join(work, "loadgen")
	if out, err := exec.CommandContext(ctx, "go", "build", "-C", root, "-o", lg, "./scripts/loadgen").CombinedOutput(); err != nil {
		return fmt.Errorf("go build loadgen: %v\n%s", err, out)
	}
	t, err := start(ctx, o, root, work)
	if err != nil {
		return err
	}
	defer t.stop()
	fmt.Printf("== PBX pid %d, SIP %s, event socket %s\n", t.pid, t.sip, t.esl)
	var rows []row
	for _, rate := range o.cps {
		if ctx.Err() != nil {
			break
		}
		fmt.Printf("== CPS %d/s for %d s, hold %v\n", rate, o.cpsSecs, o.cpsHold)
		r, err := cpsStep(ctx, o, t, root, filepath.Join(work, fmt.Sprintf("cps%d", rate)), rate)
		if err != nil {
			fmt.Println("   ", err)
		}
		r.rssAfter = settle(ctx, t, o.after)
		fmt.Println("   ", r.line())
		rows = append(rows, r)
	}
	for _, n := range o.bridged {
		if ctx.Err() != nil {
			break
		}
		fmt.Printf("== %d bridged calls, ramp %d/s, hold %v\n", n, o.rate, o.hold)
		r, err := bridgedStep(ctx, o, t, lg, n)
		if err != nil {
			fmt.Println("   ", err)
		}
		r.rssAfter = settle(ctx, t, o.after)
		fmt.Println("   ", r.line())
		rows = append(rows, r)
	}
	fmt.Println()
	fmt.Print(table(rows, o.after))
	return nil
}

// settle waits d, then reads the PBX's RSS (KB).
func settle(ctx context.Context, t *target, d time.Duration) int {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	return loadconf.ProcRSS(t.pid)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return "", fmt.Errorf("run bench inside the goswitch module: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// start builds and starts goswitch on the load configuration, or runs -pbx.
func start(ctx context.Context, o options, root, work string) (*target, error) {
	if o.pbx != "" {
		cmd := exec.Command("sh", "-c", "exec "+o.pbx)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill whatever it starts, too
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t := &target{pid: cmd.Process.Pid, sip: o.sip, uas: o.uas, esl: o.esl, eslPass: o.eslPass, stop: func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}}
		if o.pid > 0 {
			t.pid = o.pid
		}
		if err := waitESL(ctx, t, done, 60*time.Second); err != nil {
			t.stop()
			return nil, err
		}
		return t, nil
	}
	fmt.Println("== building goswitch")
	bin, err := loadconf.Build(ctx, root, work)
	if err != nil {
		return nil, err
	}
	metrics := o.metrics
	if metrics == "" {
		c := loadconf.Config{}
		if err := c.Ports(); err != nil {
			return nil, err
		}
		metrics = c.UAS // a free loopback port
	}
	var p *loadconf.PBX
	for attempt := 0; ; attempt++ {
		c := loadconf.Config{AuthCall: true, Metrics: metrics, MaxLagMs: o.maxLag}
		if err := c.Ports(); err != nil {
			return nil, err
		}
		p, err = loadconf.Start(bin, filepath.Join(work, "pbx"), c, 30*time.Second)
		if err == nil {
			break
		}
		if attempt == 2 {
			return nil, err
		}
	}
	return &target{pid: p.Cmd.Process.Pid, sip: p.SIP(), uas: p.Conf.UAS, esl: p.ESL(), eslPass: p.Conf.ESLPass,
		pprof: "http://" + metrics, stop: p.Stop}, nil
}
