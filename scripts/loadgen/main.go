// Command loadgen drives goswitch with bridged calls carrying G.711 media, in one process,
// and says what each bridged call costs goswitch.
//
//	go run ./scripts/loadgen -pbx 127.0.0.1:15060 -listen 127.0.0.1:15100 -n 2000 -rate 200 -hold 30s -pid $(pidof goswitch)
//
// It plays both phones: the caller INVITEs b<N> on goswitch (-pbx), whose dialplan bridges it
// to sofia/external/b<N>@<-listen> (internal/loadconf writes such a configuration), and the
// callee answers there. Both ends send PCMU at 50 packets/s, paced by one clock goroutine and
// batched with sendmmsg (internal/udpbatch); receivers read with recvmmsg and take the
// kernel's arrival stamps. Calls ramp at -rate, stay up together for -hold, and hang up with
// BYE at -rate. Reported: calls answered and failed (by SIP code), setup time (INVITE to 200),
// end-to-end RTP per direction (received/sent, per call and in total), the jitter goswitch
// adds (change in transit time between consecutive packets during the hold, from kernel
// stamps), goswitch's CPU (% of a core per bridged call during the hold, CPU-ms per call over
// the run) and RSS (-pid), the loadgen's own CPU, and the channels left afterwards (ESL
// `show channels count`, -esl). -json prints a last line "RESULT {...}" for scripts/bench.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/internal/loadconf"
)

type options struct {
	pbx, listen      string
	n, rate, sockets int
	senders          int
	hold, grace      time.Duration
	user, pass       string
	pid              int
	esl, eslPass     string
	asJSON           bool
	cpuprofile       string
}

// Result is the run's summary; scripts/bench reads it as JSON.
type Result struct {
	Calls, Answered, Failed                  int
	Fails                                    map[string]int `json:",omitempty"`
	SetupP50ms, SetupP99ms                   float64
	RTPToUASPct                              float64 // received at the callee / sent by the caller
	RTPToUACPct                              float64 // received at the caller / sent by the callee
	CallsUnder97                             int     // calls with either direction under 97 %
	JitterP50ms, JitterP99ms, JitterMaxms    float64
	HoldSec                                  float64
	PBXCPUPct                                float64 // goswitch, % of one core during the hold
	PBXCorePerCallPct                        float64 // PBXCPUPct / answered calls
	PBXCPUmsPerCall                          float64 // goswitch CPU over the whole run (ramp, hold, hangup) per call
	PBXRSSBaseKB, PBXRSSHoldKB, PBXRSSPeakKB int
	RSSPerCallKB                             float64 // (hold - base) / answered
	SelfCPUPct                               float64 // the loadgen, % of one core during the hold
	LateTicks                                uint64  // clock ticks the loadgen skipped (it could not keep up)
	SentPct                                  float64 // packets sent / due: under 100 the loadgen, not goswitch, fell behind
	ChannelsLeft                             int     // -1: not asked
	WallSec                                  float64
}

func main() {
	var o options
	flag.StringVar(&o.pbx, "pbx", "127.0.0.1:15060", "goswitch's SIP address (the profile the caller uses)")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:15100", "the loadgen's SIP address; goswitch's B legs must reach it")
	flag.IntVar(&o.n, "n", 100, "concurrent bridged calls")
	flag.IntVar(&o.rate, "rate", 100, "calls per second, for the ramp and the hangup")
	flag.IntVar(&o.sockets, "sockets", 16, "RTP sockets per side shared by the calls")
	flag.IntVar(&o.senders, "senders", runtime.GOMAXPROCS(0), "RTP sender workers the clock hands each tick's batches to")
	flag.DurationVar(&o.hold, "hold", 10*time.Second, "how long all calls stay up together (the measured phase)")
	flag.DurationVar(&o.grace, "grace", 100*time.Millisecond, "wait between stopping a call's RTP and its BYE")
	flag.StringVar(&o.user, "user", "1000", "digest user for goswitch's challenge")
	flag.StringVar(&o.pass, "pass", "load1234", "digest password")
	flag.IntVar(&o.pid, "pid", 0, "goswitch's pid, for its CPU and RSS")
	flag.StringVar(&o.esl, "esl", "127.0.0.1:8021", "goswitch's event socket, to count channels left (empty: skip)")
	flag.StringVar(&o.eslPass, "esl-pass", "ClueCon", "event socket password")
	flag.BoolVar(&o.asJSON, "json", false, "print a last line RESULT <json>")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write the loadgen's own CPU profile of the hold to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Print(r.String())
	if o.asJSON {
		b, _ := json.Marshal(r)
		fmt.Printf("RESULT %s\n", b)
	}
	if r.Failed > 0 || r.ChannelsLeft > 0 {
		os.Exit(3)
	}
}

// run places the calls, holds, hangs up and measures.
func run(ctx context.Context, o options) (*Result, error) {
	m, err := newMedia(o.n, o.sockets, o.senders)
	if err != nil {
		return nil, err
	}
	p, err := newPhones(o.listen, m)
	if err != nil {
		m.close()
		return nil, err
	}
	defer p.close()
	r := &Result{Calls: o.n, ChannelsLeft: -1}
	start := time.Now()
	pbx0 := loadconf.ProcCPU(o.pid)
	r.PBXRSSBaseKB = loadconf.ProcRSS(o.pid)
	var peak sync.WaitGroup
	peakStop := make(chan struct{})
	peak.Add(1)
	go func() { // RSS peak, sampled
		defer peak.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			r.PBXRSSPeakKB = max(r.PBXRSSPeakKB, loadconf.ProcRSS(o.pid))
			select {
			case <-peakStop:
				return
			case <-t.C:
			}
		}
	}()

	var st setups
	hangup := make([]chan struct{}, o.n)
	results := make([]callResult, o.n)
	var setupDone, callsDone sync.WaitGroup
	setupDone.Add(o.n)
	callsDone.Add(o.n)
	every := time.Second / time.Duration(max(1, o.rate))
	for i := range o.n {
		hangup[i] = make(chan struct{})
		if !sleepUntil(ctx, start.Add(time.Duration(i)*every)) {
			setupDone.Add(i - o.n)
			callsDone.Add(i - o.n)
			break
		}
		go func() {
			defer callsDone.Done()
			results[i] = p.call(ctx, o, i, hangup[i], func(d time.Duration) {
				if d > 0 {
					st.ok(d)
				}
				setupDone.Done()
			})
		}()
	}
	setupDone.Wait()

	// The hold: every answered call is up, media flows both ways.
	m.measure.Store(true)
	stopProf := startProfile(o.cpuprofile)
	c0, s0, t0 := loadconf.ProcCPU(o.pid), selfCPU(), time.Now()
	sleepUntil(ctx, t0.Add(o.hold))
	c1, s1, t1 := loadconf.ProcCPU(o.pid), selfCPU(), time.Now()
	r.PBXRSSHoldKB = loadconf.ProcRSS(o.pid)
	m.measure.Store(false)
	stopProf()
	r.HoldSec = t1.Sub(t0).Seconds()
	r.PBXCPUPct = 100 * (c1 - c0).Seconds() / r.HoldSec
	r.SelfCPUPct = 100 * (s1 - s0).Seconds() / r.HoldSec

	// Hang up at the ramp rate.
	h0 := time.Now()
	for i := range hangup {
		sleepUntil(ctx, h0.Add(time.Duration(i)*every))
		close(hangup[i])
	}
	callsDone.Wait()
	m.close()
	close(peakStop)
	peak.Wait()
	r.PBXCPUmsPerCall = float64((loadconf.ProcCPU(o.pid) - pbx0).Milliseconds()) / float64(max(1, o.n))
	r.WallSec = time.Since(start).Seconds()

	r.summarize(m, results, &st)
	if o.esl != "" {
		r.ChannelsLeft = waitChannels(ctx, o.esl, o.eslPass, 15*time.Second)
	}
	return r, nil
}

func (r *Result) summarize(m *media, results []callResult, st *setups) {
	var toUAS, sentUAS, toUAC, sentUAC uint64
	for i, res := range results {
		if res.fail != "" {
			st.fail(res.fail)
			continue
		}
		if res.setup == 0 {
			st.fail("not placed")
			continue
		}
		r.Answered++
		a, b := &m.legs[uas][i], &m.legs[uac][i]
		toUAS, sentUAS = toUAS+uint64(a.recv.Load()), sentUAS+uint64(a.sent.Load())
		toUAC, sentUAC = toUAC+uint64(b.recv.Load()), sentUAC+uint64(b.sent.Load())
		if pct(a.recv.Load(), a.sent.Load()) < 97 || pct(b.recv.Load(), b.sent.Load()) < 97 {
			r.CallsUnder97++
		}
	}
	r.Failed = r.Calls - r.Answered
	r.Fails = st.fails
	r.SetupP50ms = ms(st.quantile(0.5))
	r.SetupP99ms = ms(st.quantile(0.99))
	r.RTPToUASPct = pct64(toUAS, sentUAS)
	r.RTPToUACPct = pct64(toUAC, sentUAC)
	h := &hist{}
	for _, x := range m.hists {
		h.merge(x)
	}
	r.JitterP50ms, r.JitterP99ms, r.JitterMaxms = ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(1))
	if r.Answered > 0 {
		r.PBXCorePerCallPct = r.PBXCPUPct / float64(r.Answered)
		r.RSSPerCallKB = float64(r.PBXRSSHoldKB-r.PBXRSSBaseKB) / float64(r.Answered)
	}
	r.LateTicks = m.late.Load()
	r.SentPct = pct64(m.sent.Load(), m.due.Load())
}

func pct(a, b uint32) float64 { return pct64(uint64(a), uint64(b)) }

func pct64(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// waitChannels polls `show channels count` until it is 0 or within expires.
func waitChannels(ctx context.Context, addr, pass string, within time.Duration) int {
	end := time.Now().Add(within)
	n := -1
	for {
		c, err := loadconf.Channels(addr, pass)
		if err == nil {
			n = c
		}
		if n == 0 || time.Now().After(end) || ctx.Err() != nil {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls %d answered %d failed %d", r.Calls, r.Answered, r.Failed)
	if len(r.Fails) > 0 {
		var ks []string
		for k, v := range r.Fails {
			ks = append(ks, fmt.Sprintf("%s:%d", k, v))
		}
		sort.Strings(ks)
		fmt.Fprintf(&b, " (%s)", strings.Join(ks, " "))
	}
	fmt.Fprintf(&b, "\nsetup INVITE->200 p50 %.1f ms p99 %.1f ms\n", r.SetupP50ms, r.SetupP99ms)
	fmt.Fprintf(&b, "RTP end to end: caller->callee %.2f%%, callee->caller %.2f%%, calls under 97%%: %d\n",
		r.RTPToUASPct, r.RTPToUACPct, r.CallsUnder97)
	fmt.Fprintf(&b, "added jitter (hold, %d streams) p50 %.2f ms p99 %.2f ms max %.2f ms\n", 2*r.Answered, r.JitterP50ms, r.JitterP99ms, r.JitterMaxms)
	fmt.Fprintf(&b, "goswitch: CPU %.1f%% of a core during the %.0f s hold = %.3f%% per bridged call; %.1f CPU-ms per call over the run\n",
		r.PBXCPUPct, r.HoldSec, r.PBXCorePerCallPct, r.PBXCPUmsPerCall)
	fmt.Fprintf(&b, "goswitch: RSS base %d KB, hold %d KB, peak %d KB = %.1f KB per bridged call\n",
		r.PBXRSSBaseKB, r.PBXRSSHoldKB, r.PBXRSSPeakKB, r.RSSPerCallKB)
	fmt.Fprintf(&b, "loadgen: CPU %.1f%% of a core during the hold, sent %.2f%% of the packets due (%d late clock ticks); channels left %d; %.1f s\n",
		r.SelfCPUPct, r.SentPct, r.LateTicks, r.ChannelsLeft, r.WallSec)
	return b.String()
}

// startProfile starts a CPU profile into file (none when file is empty); the result stops it.
func startProfile(file string) (stop func()) {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
