package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Reasons a new session is refused. Endpoints answer all of them like FreeSWITCH's mod_sofia
// answers a full switch ("503 Maximum Calls In Progress"), with a Retry-After, and count them.
const (
	RefuseMaxSessions = "max-sessions"        // switch.conf max-sessions (fsctl max_sessions)
	RefuseSPS         = "sessions-per-second" // switch.conf sessions-per-second (fsctl sps)
	RefusePaused      = "paused"              // fsctl pause, fsctl shutdown asap
	RefuseShutdown    = "shutting-down"       // SIGTERM drain
	RefuseOverload    = "overload"            // the scheduler lags: max-scheduling-lag-ms
	RefuseRTPPorts    = "rtp-ports"           // the profile's RTP port range is used up
)

var refuseReasons = [nReasons]string{RefuseMaxSessions, RefuseSPS, RefusePaused, RefuseShutdown, RefuseOverload, RefuseRTPPorts}

const nReasons = 6

// AdmissionError is a refusal for want of capacity. errors.Is(err, ErrSessionLimit) holds.
type AdmissionError struct {
	Reason     string
	RetryAfter int // seconds, for the Retry-After header (RFC 3261 20.33)
}

func (e *AdmissionError) Error() string { return "session limit reached: " + e.Reason }

// Is makes every refusal an ErrSessionLimit.
func (e *AdmissionError) Is(target error) bool { return target == ErrSessionLimit }

// admission is the host's admission control beyond the table's own limits: the refusal
// counters, the rate-limited warnings, Retry-After and the scheduling-lag signal.
type admission struct {
	refused [nReasons]atomic.Uint64

	retryMin, retryMax atomic.Int64 // seconds
	maxLag             atomic.Int64 // ns; 0: off
	lag                atomic.Int64 // smoothed scheduling lag, ns
	overloaded         atomic.Bool
	draining           atomic.Bool
	throttle           throttle // while overloaded: the inbound call rate still admitted
	admittedRate       func() int64

	warnMu   sync.Mutex
	lastWarn [nReasons]time.Time
	quiet    [nReasons]uint64 // refusals not logged since lastWarn

	stop chan struct{}
	done chan struct{}
}

func (a *admission) init() {
	a.retryMin.Store(1)
	a.retryMax.Store(5)
	a.maxLag.Store(int64(100 * time.Millisecond))
	// GOSWITCH_MAX_SCHEDULING_LAG_MS sets the default that switch.conf's max-scheduling-lag-ms
	// overrides: scripts/test.sh turns the signal off, because under -race many test processes
	// share two cores and the lag they see is the test runner's, not goswitch's.
	if n, err := strconv.Atoi(os.Getenv("GOSWITCH_MAX_SCHEDULING_LAG_MS")); err == nil && n >= 0 {
		a.maxLag.Store(int64(n) * int64(time.Millisecond))
	}
}

func reasonIndex(reason string) int {
	for i, r := range refuseReasons {
		if r == reason {
			return i
		}
	}
	return len(refuseReasons) - 1
}

// configure reads the switch.conf settings of admission control.
func (a *admission) configure(name, val string) {
	switch name {
	case "overload-retry-after":
		lo, hi, ok := strings.Cut(val, "-")
		if !ok {
			hi = lo
		}
		l, err1 := strconv.Atoi(strings.TrimSpace(lo))
		h, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 == nil && err2 == nil && l >= 0 && h >= l {
			a.retryMin.Store(int64(l))
			a.retryMax.Store(int64(h))
		}
	case "max-scheduling-lag-ms":
		if n, err := strconv.Atoi(val); err == nil && n >= 0 {
			a.maxLag.Store(int64(n) * int64(time.Millisecond))
		}
	}
}

// Refuse counts a refusal for reason, logs it at WARNING (once a second per reason, with how
// many were not logged) and returns the error the endpoint answers with.
func (h *Host) Refuse(reason string) *AdmissionError {
	a := &h.adm
	i := reasonIndex(reason)
	a.refused[i].Add(1)
	now := time.Now()
	a.warnMu.Lock()
	var quiet uint64
	log := now.Sub(a.lastWarn[i]) >= time.Second
	if log {
		quiet, a.quiet[i], a.lastWarn[i] = a.quiet[i], 0, now
	} else {
		a.quiet[i]++
	}
	a.warnMu.Unlock()
	if log {
		_, _, max, sps := h.SessionStats()
		h.Log.Warn("new session refused: 503 Maximum Calls In Progress", "reason", reason,
			"sessions", h.SessionCount(), "max_sessions", max, "sessions_per_second", sps,
			"scheduling_lag_ms", a.lag.Load()/int64(time.Millisecond), "also_refused_since_last_warning", quiet)
	}
	lo, hi := a.retryMin.Load(), a.retryMax.Load()
	ra := lo
	if hi > lo {
		ra += rand.Int64N(hi - lo + 1) // jitter, so refused callers do not come back in step
	}
	return &AdmissionError{Reason: reason, RetryAfter: int(ra)}
}

// Refusals returns how many new sessions were refused, by reason, since start.
func (h *Host) Refusals() map[string]uint64 {
	out := make(map[string]uint64, len(refuseReasons))
	for i, r := range refuseReasons {
		out[r] = h.adm.refused[i].Load()
	}
	return out
}

// RefusalReasons lists the reasons Refusals reports, in a fixed order.
func RefusalReasons() []string { return append([]string(nil), refuseReasons[:]...) }

// SchedulingLag returns the smoothed scheduling lag and whether the overload throttle is on.
func (h *Host) SchedulingLag() (time.Duration, bool) {
	return time.Duration(h.adm.lag.Load()), h.adm.overloaded.Load()
}

// CheckAdmission says whether a new session in direction would be admitted now, without
// admitting it: endpoints call it before they spend anything on a call (authentication, RTP
// ports). A refusal is counted and logged; Start checks again.
func (h *Host) CheckAdmission(dir Direction) error {
	if reason := h.overLimit(dir, time.Now()); reason != "" {
		return h.Refuse(reason)
	}
	return nil
}

// overLimit returns why a new session would be refused, or "".
func (h *Host) overLimit(dir Direction, now time.Time) string {
	if h.paused.Load() {
		if h.adm.draining.Load() {
			return RefuseShutdown
		}
		return RefusePaused
	}
	h.mu.RLock()
	n := int64(len(h.sessions))
	rate := h.spsWindow.rate(now)
	h.mu.RUnlock()
	if n >= h.maxSessions.Load() {
		return RefuseMaxSessions
	}
	// FreeSWITCH's sessions-per-second throttles inbound calls only; outbound legs of a call in
	// progress must not fail because many callers arrived at once. The lag signal likewise.
	if dir == Inbound {
		if rate >= h.sps.Load() {
			return RefuseSPS
		}
		// Only a peek: the token is taken when the session starts (admit), so INVITEs that are
		// challenged or fail authentication do not use up the rate left for real calls.
		if h.adm.overloaded.Load() && !h.adm.throttle.peek(now) {
			return RefuseOverload
		}
	}
	return ""
}

// lagTick is the overload sampler's period.
const lagTick = 50 * time.Millisecond

// startLagMonitor runs the scheduling-lag signal until Stop. A Go process given more work than
// its CPUs can do shows it first as goroutines that wait to run: every SIP message is handled on
// a goroutine of its own, so the time runnable goroutines wait for a CPU (runtime/metrics
// /sched/latencies:seconds, its 90th percentile over each period) is the time a new INVITE,
// ACK or BYE waits before goswitch looks at it. New inbound calls are refused while the smoothed
// lag is above max-scheduling-lag-ms, and admitted again once it fell below half of it.
func (a *admission) startLagMonitor(sessions func() int) {
	if a.stop != nil {
		return
	}
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.done)
		t := time.NewTicker(lagTick)
		defer t.Stop()
		var sl schedLatency
		sl.sample()
		last := time.Now()
		var rc reclaimer
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
				// The sampler's own lateness counts too: a stall (GC, CPU starvation) shows there.
				now := time.Now()
				late := now.Sub(last) - lagTick
				last = now
				a.observe(max(late, sl.sample()))
				rc.tick(now, sessions())
			}
		}
	}()
}

// reclaimer gives the heap back to the OS once a load has passed. After a burst the Go runtime
// keeps the pages it grew into until the next GC cycles and its background scavenger get to
// them (minutes); FreeSWITCH's pools behave alike until fsctl reclaim_mem. When the session
// count has fallen to a quarter of its high-water mark (and that mark was a real load), goswitch
// does what fsctl reclaim_mem does, three times reclaimEvery apart: what the calls left behind
// (SIP transactions, which live 32 s after their call) is freed over that time.
type reclaimer struct {
	high, done int
	next       time.Time
}

const (
	reclaimEvery   = 20 * time.Second
	reclaimTimes   = 3
	reclaimMinHigh = 200 // sessions: below that a burst leaves little behind
)

func (r *reclaimer) tick(now time.Time, n int) {
	r.high = max(r.high, n)
	if now.Before(r.next) || r.high < reclaimMinHigh || n*4 > r.high {
		return
	}
	r.next = now.Add(reclaimEvery)
	debug.FreeOSMemory()
	if r.done++; r.done >= reclaimTimes {
		r.high, r.done = n, 0
	}
}

// schedLatency reads the 90th percentile of the scheduler latencies recorded since the last call.
type schedLatency struct {
	s    []metrics.Sample
	prev []uint64
}

func (l *schedLatency) sample() time.Duration {
	if l.s == nil {
		l.s = []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	}
	metrics.Read(l.s)
	if l.s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := l.s[0].Value.Float64Histogram()
	if len(l.prev) != len(h.Counts) {
		l.prev = make([]uint64, len(h.Counts))
		copy(l.prev, h.Counts)
		return 0
	}
	var total uint64
	for i, c := range h.Counts {
		total += c - l.prev[i]
	}
	var p90 time.Duration
	if total > 0 {
		var seen uint64
		for i, c := range h.Counts {
			seen += c - l.prev[i]
			if seen*10 >= total*9 {
				b := h.Buckets[i+1] // the bucket's upper bound
				if math.IsInf(b, 1) {
					b = h.Buckets[i]
				}
				p90 = time.Duration(b * float64(time.Second))
				break
			}
		}
	}
	copy(l.prev, h.Counts)
	return p90
}

// observe feeds one lateness sample into the smoothed lag (EWMA, 1/4; a stall weighs more) and
// steers the overload throttle.
func (a *admission) observe(late time.Duration) {
	if late < 0 {
		late = 0
	}
	old := a.lag.Load()
	v := old + (int64(late)-old)/4
	if int64(late) > old && int64(late) > 4*old {
		v = old + (int64(late)-old)/2 // react to a stall within a tick or two
	}
	a.lag.Store(v)
	max := a.maxLag.Load()
	now := time.Now()
	switch {
	case max <= 0:
		a.overloaded.Store(false)
	case v > max:
		if !a.overloaded.Load() {
			var rate int64
			if a.admittedRate != nil {
				rate = a.admittedRate()
			}
			a.throttle.start(now, float64(rate))
			a.overloaded.Store(true)
		} else {
			a.throttle.decrease(now)
		}
	case a.overloaded.Load():
		if a.throttle.increase(v < max/2) {
			a.overloaded.Store(false)
		}
	}
}

// throttle is the overload controller: instead of shutting the door while the scheduler lags,
// it admits new inbound calls at a rate that it cuts by a quarter (at most every 200 ms) while
// the lag is above max-scheduling-lag-ms (down to a floor) and raises by 2% a tick below it
// (about +50% a second), the AIMD of TCP congestion control. Overload ends after a second below
// half the threshold.
type throttle struct {
	mu      sync.Mutex
	rate    float64 // calls per second
	floor   float64 // a quarter of the rate admitted when the overload began
	tokens  float64
	last    time.Time // last refill
	lastCut time.Time
	calm    int // ticks in a row with the lag below half the threshold
}

const (
	throttleMinRate = 5.0
	throttleCalm    = int(time.Second / lagTick) // ticks
)

func (t *throttle) start(now time.Time, admitted float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rate = max(throttleMinRate, admitted*0.75)
	// The lag does not always answer to the admitted rate: refusing a flood costs CPU too, and
	// other processes may hold the CPUs. A floor keeps the throttle from starving callers for a
	// lag that turning them away does not cure; max-sessions stays the hard limit.
	t.floor = max(throttleMinRate, admitted/4)
	t.tokens, t.last, t.lastCut, t.calm = 0, now, now, 0
}

func (t *throttle) decrease(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calm = 0
	if now.Sub(t.lastCut) >= 200*time.Millisecond {
		t.rate = max(t.floor, t.rate*0.75)
		t.lastCut = now
	}
}

// increase raises the rate; it reports whether the overload is over (calm for throttleCalm
// ticks).
func (t *throttle) increase(calm bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rate += max(1, t.rate*0.02)
	if !calm {
		t.calm = 0
		return false
	}
	t.calm++
	return t.calm >= throttleCalm
}

// take admits one call if the rate allows it now (a token bucket holding 100 ms of calls).
func (t *throttle) take(now time.Time) bool { return t.tokensAt(now, true) }

// peek says whether take would admit a call now, without taking its token.
func (t *throttle) peek(now time.Time) bool { return t.tokensAt(now, false) }

func (t *throttle) tokensAt(now time.Time, take bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dt := now.Sub(t.last).Seconds(); dt > 0 {
		t.tokens = min(max(1, t.rate/10), t.tokens+dt*t.rate)
		t.last = now
	}
	if t.tokens < 1 {
		return false
	}
	if take {
		t.tokens--
	}
	return true
}

func (a *admission) stopLagMonitor() {
	if a.stop == nil {
		return
	}
	close(a.stop)
	<-a.done
	a.stop = nil
}

// BeginDrain refuses new calls from now on (503 with Retry-After, reason shutting-down); calls
// up continue. SetPaused(false) ends it (fsctl shutdown cancel, fsctl resume).
func (h *Host) BeginDrain() {
	h.adm.draining.Store(true)
	h.paused.Store(true)
}

// IsAdmissionError returns the refusal in err, if err is one.
func IsAdmissionError(err error) (*AdmissionError, bool) {
	var ae *AdmissionError
	ok := errors.As(err, &ae)
	return ae, ok
}
