package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/internal/loadconf"
)

// row is one step of the table.
type row struct {
	name              string
	offered, achieved string
	failed            int
	p50, p99          float64 // setup, ms
	cpuMsPerCall      float64
	corePerCall       float64 // % of a core per bridged call (bridged steps)
	rtp               float64 // end-to-end RTP %, the worse direction (bridged steps)
	jitterP99         float64 // ms (bridged steps)
	relayP99          float64 // ms, goswitch's own relay delay (bridged steps; NaN if not known)
	rssPeak, rssAfter int     // KB
	rssPerCall        float64 // KB (bridged steps)
	genCPU            float64 // the load generator's % of a core
	sentPct           float64 // loadgen packets sent / due (bridged steps)
	left              int     // channels left, -1 unknown
	bridged           bool
}

func (r row) line() string {
	return fmt.Sprintf("%s: offered %s achieved %s failed %d setup p50 %.1f p99 %.1f ms, %.2f CPU-ms/call, RSS peak %d MB after %d MB",
		r.name, r.offered, r.achieved, r.failed, r.p50, r.p99, r.cpuMsPerCall, r.rssPeak/1024, r.rssAfter/1024)
}

func table(rows []row, after time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| step | offered | achieved | failed | setup p50 / p99 ms | CPU-ms per call | %% core per bridged call | RTP e2e %% | added jitter p99 ms | goswitch relay delay p99 ms | RSS per bridged call KB | RSS peak MB | RSS %v after MB | channels left | load generator %% core | loadgen sent %% of due |\n", after)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	dash := func(ok bool, f string, v float64) string {
		if !ok {
			return "-"
		}
		return fmt.Sprintf(f, v)
	}
	for _, r := range rows {
		left := "-"
		if r.left >= 0 {
			left = strconv.Itoa(r.left)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %.1f / %.1f | %.2f | %s | %s | %s | %s | %s | %d | %d | %s | %.0f | %s |\n",
			r.name, r.offered, r.achieved, r.failed, r.p50, r.p99, r.cpuMsPerCall,
			dash(r.bridged, "%.3f", r.corePerCall), dash(r.bridged, "%.2f", r.rtp), dash(r.bridged, "%.2f", r.jitterP99),
			dash(r.bridged && !math.IsNaN(r.relayP99), "%.2f", r.relayP99),
			dash(r.bridged, "%.0f", r.rssPerCall), r.rssPeak/1024, r.rssAfter/1024, left, r.genCPU, dash(r.bridged, "%.2f", r.sentPct))
	}
	return b.String()
}

// bridgedStep runs the loadgen for n bridged calls and reads its RESULT line.
func bridgedStep(ctx context.Context, o options, t *target, lg string, n int) (row, error) {
	r := row{name: fmt.Sprintf("bridged %d", n), offered: strconv.Itoa(n), achieved: "0", bridged: true, left: -1}
	ramp := time.Duration(n) * time.Second / time.Duration(max(1, o.rate))
	sctx, cancel := context.WithTimeout(ctx, 2*ramp+o.hold+2*time.Minute)
	defer cancel()
	args := append([]string{"-pbx", t.sip, "-listen", t.uas, "-n", strconv.Itoa(n), "-rate", strconv.Itoa(o.rate),
		"-sockets", strconv.Itoa(o.sockets), "-hold", o.hold.String(), "-pid", strconv.Itoa(t.pid),
		"-esl", t.esl, "-esl-pass", t.eslPass, "-json"}, strings.Fields(o.lgflags)...)
	cmd := exec.CommandContext(sctx, lg, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	// The hold starts once the ramp is over; profiles and the relay delay cover it.
	holdSecs := max(1, int(o.hold.Seconds())-2)
	if o.profile != "" && t.pprof != "" {
		go profile(sctx, t.pprof, ramp+time.Second+2*time.Second, holdSecs, filepath.Join(o.profile, fmt.Sprintf("bridged-%d.pprof", n)))
	}
	var relay <-chan float64
	if t.pprof != "" {
		relay = watchRelayDelay(sctx, t.pprof, ramp+3*time.Second, holdSecs)
	}
	var res struct {
		Answered, Failed                      int
		SetupP50ms, SetupP99ms                float64
		RTPToUASPct, RTPToUACPct, JitterP99ms float64
		PBXCorePerCallPct, PBXCPUmsPerCall    float64
		PBXRSSPeakKB                          int
		RSSPerCallKB, SelfCPUPct, SentPct     float64
		ChannelsLeft                          int
		Fails                                 map[string]int
	}
	sc := bufio.NewScanner(out)
	got := false
	for sc.Scan() {
		line := sc.Text()
		if j, ok := strings.CutPrefix(line, "RESULT "); ok {
			got = json.Unmarshal([]byte(j), &res) == nil
			continue
		}
		fmt.Println("    " + line)
	}
	_ = cmd.Wait()
	if !got {
		return r, fmt.Errorf("loadgen gave no result")
	}
	r.achieved, r.failed = strconv.Itoa(res.Answered), res.Failed
	r.p50, r.p99 = res.SetupP50ms, res.SetupP99ms
	r.cpuMsPerCall, r.corePerCall = res.PBXCPUmsPerCall, res.PBXCorePerCallPct
	r.rtp, r.jitterP99 = min(res.RTPToUASPct, res.RTPToUACPct), res.JitterP99ms
	r.rssPeak, r.rssPerCall, r.genCPU, r.left = res.PBXRSSPeakKB, res.RSSPerCallKB, res.SelfCPUPct, res.ChannelsLeft
	r.sentPct = res.SentPct
	r.relayP99 = math.NaN()
	if relay != nil {
		r.relayP99 = <-relay
		fmt.Printf("    goswitch relay delay (its own added jitter, hold) p99 <= %.2f ms\n", r.relayP99)
	}
	return r, nil
}

// profile fetches a CPU profile of secs seconds after wait, then a heap profile (still in the
// hold): file and file.heap.
func profile(ctx context.Context, base string, wait time.Duration, secs int, file string) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(wait):
	}
	fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), file)
	fetch(ctx, base+"/debug/pprof/heap", file+".heap")
}

func fetch(ctx context.Context, url, file string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("    profile:", err)
		return
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return
	}
	f, err := os.Create(file)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
	fmt.Println("    profile written:", file)
}

// cpsStep runs SIPp's authenticated caller to the echo extension at rate calls/s.
func cpsStep(ctx context.Context, o options, t *target, root, dir string, rate int) (row, error) {
	total := rate * o.cpsSecs
	r := row{name: fmt.Sprintf("CPS %d", rate), offered: fmt.Sprintf("%d/s", rate), achieved: "0/s", failed: total, left: -1}
	if _, err := exec.LookPath("sipp"); err != nil {
		return r, fmt.Errorf("sipp not installed (apt-get install sip-tester)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	host, port, _ := strings.Cut(t.sip, ":")
	sctx, cancel := context.WithTimeout(ctx, time.Duration(o.cpsSecs)*time.Second+o.cpsHold+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(sctx, "sipp", host+":"+port, "-i", "127.0.0.1", "-p", "0", "-mi", "127.0.0.1",
		"-sf", filepath.Join(root, "scripts/sipp/uac_auth.xml"), "-s", "1000", "-au", "1000", "-ap", "load1234",
		"-key", "dest", "echo", "-key", "rtpport", "9", "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(total), "-l", strconv.Itoa(rate*5+100),
		"-d", strconv.Itoa(int(o.cpsHold/time.Millisecond)), "-nostdin", "-trace_stat", "-fd", "1",
		"-trace_rtt", "-rtt_freq", "1", "-timeout", "300s", "-max_socket", "60000")
	cmd.Dir = dir
	sipLog, _ := os.Create(filepath.Join(dir, "sipp.out"))
	defer sipLog.Close()
	cmd.Stdout, cmd.Stderr = sipLog, sipLog
	c0, t0 := loadconf.ProcCPU(t.pid), time.Now()
	stop := make(chan struct{})
	peak := make(chan int)
	go func() { peak <- sampleRSS(t.pid, stop) }()
	var ru time.Duration
	err := cmd.Run()
	if cmd.ProcessState != nil {
		ru = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	wall := time.Since(t0)
	c1 := loadconf.ProcCPU(t.pid)
	close(stop)
	r.rssPeak = <-peak
	r.genCPU = 100 * ru.Seconds() / wall.Seconds()
	ok, failed, created, rtts := readSIPp(dir)
	r.failed = failed + (total - created)
	// Achieved: answered calls over the time SIPp took to place them (hold and teardown excluded).
	placing := wall - o.cpsHold
	r.achieved = fmt.Sprintf("%.0f/s", float64(ok)/max(placing.Seconds(), 1e-3))
	r.p50, r.p99 = quantile(rtts, 0.5), quantile(rtts, 0.99)
	r.cpuMsPerCall = float64((c1 - c0).Milliseconds()) / float64(max(1, ok))
	r.left, _ = loadconf.Channels(t.esl, t.eslPass)
	if err != nil && ok < total {
		return r, fmt.Errorf("sipp: %v (see %s)", err, filepath.Join(dir, "sipp.out"))
	}
	return r, nil
}

// readSIPp reads the last line of SIPp's -trace_stat file and its setup times (-trace_rtt).
func readSIPp(dir string) (ok, failed, created int, rtts []float64) {
	stats, _ := filepath.Glob(filepath.Join(dir, "*_.csv"))
	if len(stats) > 0 {
		f, err := os.Open(stats[0])
		if err == nil {
			cr := csv.NewReader(f)
			cr.Comma, cr.FieldsPerRecord = ';', -1
			recs, _ := cr.ReadAll()
			f.Close()
			if len(recs) > 1 {
				h, last := recs[0], recs[len(recs)-1]
				col := func(name string) int {
					for i, c := range h {
						if c == name && i < len(last) {
							n, _ := strconv.Atoi(last[i])
							return n
						}
					}
					return 0
				}
				ok, failed, created = col("SuccessfulCall(C)"), col("FailedCall(C)"), col("TotalCallCreated")
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		cr := csv.NewReader(f)
		cr.Comma, cr.FieldsPerRecord = ';', -1
		recs, _ := cr.ReadAll()
		f.Close()
		for _, rec := range recs[min(1, len(recs)):] {
			if len(rec) > 1 {
				if v, err := strconv.ParseFloat(rec[1], 64); err == nil {
					rtts = append(rtts, v)
				}
			}
		}
	}
	sort.Float64s(rtts)
	return ok, failed, created, rtts
}

func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// sampleRSS returns the highest RSS (KB) seen every 250 ms until stop is closed.
func sampleRSS(pid int, stop <-chan struct{}) int {
	peak := loadconf.ProcRSS(pid)
	tk := time.NewTicker(250 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return max(peak, loadconf.ProcRSS(pid))
		case <-tk.C:
			peak = max(peak, loadconf.ProcRSS(pid))
		}
	}
}

// waitESL waits for -pbx's event socket to answer.
func waitESL(ctx context.Context, t *target, exited <-chan struct{}, within time.Duration) error {
	end := time.Now().Add(within)
	for {
		if _, err := loadconf.Channels(t.esl, t.eslPass); err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the PBX exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(end) {
			return fmt.Errorf("the PBX's event socket %s did not answer within %v", t.esl, within)
		}
	}
}
