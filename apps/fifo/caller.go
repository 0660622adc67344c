package fifo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

// waitResult says why a queued caller stopped waiting.
type waitResult int

const (
	waitServiced waitResult = iota // a consumer took it
	waitAborted                    // exit key, or the channel went away
	waitOrbit                      // fifo_orbit_exten's timeout
)

// enqueue is "fifo <name> in": answer, queue, hear music until a consumer takes the channel
// (it then parks, taken, and the consumer bridges to it), the caller presses
// fifo_caller_exit_key, or fifo_orbit_exten's timeout transfers it.
func (m *module) enqueue(ctx context.Context, s *core.Session, r *request) error {
	if !s.Answered() {
		if err := s.Answer(ctx); err != nil {
			return err
		}
	}
	pri := 0
	pv := s.Var("fifo_priority")
	if pv != "" {
		pri, _ = strconv.Atoi(pv)
	}
	pri = min(max(pri, 0), maxPri-1)
	if pv == "" {
		s.SetVar("fifo_priority", strconv.Itoa(pri))
	}
	c := &caller{s: s, pri: pri, since: time.Now()}
	stamp(s, "WAITING")
	s.UnsetVar("fifo_serviced_uuid")
	m.mu.Lock()
	n := m.nodeLocked(r.names[0], r.imps[0])
	n.push(c)
	m.notify()
	m.mu.Unlock()
	m.db.queued(n.name, c)
	fire(s, n.name, "push", "FIFO-Slot", strconv.Itoa(pri))

	res := m.holdCaller(ctx, s, r)
	if res == waitServiced {
		return nil
	}
	m.mu.Lock()
	queued := n.remove(c)
	m.gc(n)
	m.mu.Unlock()
	if !queued {
		return nil // a consumer took it as it gave up: the consumer's bridge wins
	}
	m.db.dequeued(c)
	if res == waitOrbit {
		stamp(s, "TIMEOUT")
		fire(s, n.name, "timeout")
		if ann := s.Var("fifo_orbit_announce"); ann != "" {
			_ = s.Execute(context.WithoutCancel(ctx), "playback", ann)
		}
		exten, _, _ := strings.Cut(s.Var("fifo_orbit_exten"), ":")
		s.Transfer(exten, s.Var("fifo_orbit_dialplan"), s.Var("fifo_orbit_context"))
		return nil
	}
	stamp(s, "ABORTED")
	fire(s, n.name, "abort")
	return nil
}

// holdCaller plays the caller's music (and fifo_chime_list every fifo_chime_freq seconds) until it
// is serviced (the consumer breaks the app: ctx ends with the channel taken), aborted or orbits.
func (m *module) holdCaller(ctx context.Context, s *core.Session, r *request) waitResult {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	result := waitAborted
	if key := s.Var("fifo_caller_exit_key"); key != "" {
		s.SetDTMFHook(func(d media.DTMF) bool {
			if strings.ContainsRune(key[:1], d.Digit) {
				cancel()
				return true
			}
			return false
		})
		defer s.SetDTMFHook(nil)
	}
	var orbit <-chan time.Time
	if ex := s.Var("fifo_orbit_exten"); ex != "" {
		to := 60
		if _, t, ok := strings.Cut(ex, ":"); ok {
			if v, err := strconv.Atoi(t); err == nil && v >= 0 {
				to = v
			}
		}
		tm := time.NewTimer(time.Duration(to) * time.Second)
		defer tm.Stop()
		orbit = tm.C
	}
	orbited := make(chan struct{})
	go func() {
		select {
		case <-orbit:
			close(orbited)
			cancel()
		case <-wctx.Done():
		}
	}()
	chimes := splitList(s.Var("fifo_chime_list"))
	freq := 30 * time.Second
	if v, err := strconv.Atoi(s.Var("fifo_chime_freq")); err == nil && v > 0 {
		freq = time.Duration(v) * time.Second
	}
	next, ci := time.Now().Add(freq), 0
	for wctx.Err() == nil && !s.HungUp() {
		if len(chimes) > 0 && !time.Now().Before(next) {
			_ = s.Execute(wctx, "playback", chimes[ci%len(chimes)])
			ci++
			next = time.Now().Add(freq)
			continue
		}
		pctx, pcancel := wctx, context.CancelFunc(func() {})
		if len(chimes) > 0 {
			pctx, pcancel = context.WithDeadline(wctx, next)
		}
		if r.music != "" {
			if err := s.Execute(pctx, "playback", r.music); err != nil && pctx.Err() == nil {
				core.Sleep(pctx, time.Second) // a music that fails to play: wait, don't spin
			}
		} else {
			<-pctx.Done()
		}
		pcancel()
	}
	switch {
	case s.Taken():
		result = waitServiced
	case isClosed(orbited):
		result = waitOrbit
	}
	return result
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
