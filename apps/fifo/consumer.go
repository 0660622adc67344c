package fifo

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

// consume is "fifo <names> out [wait|nowait]": serve the queued callers of nodes, one at a time.
// With nowait it serves at most one and returns at once when nobody waits; with wait it answers,
// hears music while the queues are empty and serves caller after caller until it hangs up or
// presses fifo_consumer_exit_key (default *) while waiting.
func (m *module) consume(ctx context.Context, s *core.Session, r *request) error {
	morePeople := false
	switch st := s.Var("fifo_strategy"); strings.ToLower(st) {
	case "more_ppl":
		morePeople = true
	case "", "waiting_longer":
	default:
		s.Log().Error("fifo: invalid strategy " + st)
		return nil
	}
	order := popOrder(s.Var("fifo_pop_order"))
	if r.wait {
		if !s.Answered() {
			if err := s.Answer(ctx); err != nil {
				return err
			}
		}
		m.mu.Lock()
		nodes := make([]*node, len(r.names))
		for i, name := range r.names {
			nodes[i] = m.nodeLocked(name, r.imps[i])
			nodes[i].consumers[s] = true
		}
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			for _, n := range nodes {
				delete(n.consumers, s)
				m.gc(n)
			}
			m.mu.Unlock()
		}()
	}
	fire(s, r.names[0], "consumer_start")
	defer fire(s, r.names[0], "consumer_stop")
	stamp(s, "WAITING")
	for ctx.Err() == nil && !s.HungUp() {
		c, n := m.next(r.names, morePeople, order)
		if c == nil {
			if !r.wait {
				return nil
			}
			if !m.waitForCaller(ctx, s, r) {
				return nil
			}
			continue
		}
		m.serve(ctx, s, r, n, c)
		if !r.wait {
			return nil
		}
		stamp(s, "WAITING")
	}
	return nil
}

// next pops the caller a consumer of nodes serves next, skipping channels that went away.
func (m *module) next(names []string, morePeople bool, order []int) (*caller, *node) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nodes := m.existing(names)
	for {
		n := pickNode(nodes, morePeople)
		if n == nil {
			return nil, nil
		}
		c := n.pop(order)
		m.gc(n)
		if c != nil {
			m.db.dequeued(c)
		}
		if c != nil && !c.s.HungUp() {
			return c, n
		}
		if c == nil {
			return nil, nil // fifo_pop_order leaves the rest of this queue to others
		}
	}
}

// waitForCaller plays the consumer's music until a caller is queued in one of nodes; false when
// the consumer should stop (hung up, exit key).
func (m *module) waitForCaller(ctx context.Context, s *core.Session, r *request) bool {
	m.mu.Lock()
	wake := m.changed
	waiting := pickNode(m.existing(r.names), false) != nil
	m.mu.Unlock()
	if waiting {
		return true
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var exited atomic.Bool
	key := s.Var("fifo_consumer_exit_key")
	if key == "" {
		key = "*"
	}
	s.SetDTMFHook(func(d media.DTMF) bool {
		if d.Digit == rune(key[0]) {
			exited.Store(true)
			cancel()
			return true
		}
		return false
	})
	defer s.SetDTMFHook(nil)
	go func() {
		select {
		case <-wake:
			cancel()
		case <-wctx.Done():
		}
	}()
	for wctx.Err() == nil && !s.HungUp() {
		if r.music == "" {
			<-wctx.Done()
			break
		}
		if err := s.Execute(wctx, "playback", r.music); err != nil && wctx.Err() == nil {
			core.Sleep(wctx, time.Second)
		}
	}
	cancel()
	s.SetDTMFHook(nil)
	return !exited.Load() && ctx.Err() == nil && !s.HungUp()
}

// serve bridges consumer s to caller c, taken out of its queue. The consumer's exit key hangs the
// caller up during the call; when the call ends the consumer goes on (the caller follows a
// consumer that hangs up out).
func (m *module) serve(ctx context.Context, s *core.Session, r *request, n *node, c *caller) {
	fire(c.s, n.name, "caller_pop")
	fire(s, n.name, "consumer_pop", "FIFO-Caller-UUID", c.s.UUID())
	announce := r.announce
	if o := c.s.Var("fifo_override_announce"); o != "" {
		announce = o
	}
	if !s.Answered() {
		if err := s.Answer(ctx); err != nil {
			return
		}
	}
	if announce != "" {
		_ = s.Execute(ctx, "playback", announce)
	} else {
		core.Sleep(ctx, 500*time.Millisecond)
	}
	id := s.Var("fifo_consumer_id")
	if id == "" {
		id = s.UUID()
	}
	c.s.SetVar("fifo_serviced_by", id)
	c.s.SetVar("fifo_serviced_uuid", s.UUID())
	c.s.SetVar("fifo_wait_ms", strconv.FormatInt(time.Since(c.since).Milliseconds(), 10))
	stamp(c.s, "TALKING")
	stamp(s, "TALKING")
	s.SetVar("fifo_bridge_uuid", c.s.UUID())
	c.s.Take()
	c.s.Break()
	if s.HungUp() || ctx.Err() != nil {
		c.s.Hangup(core.CauseNormalClearing)
		return
	}
	key := s.Var("fifo_consumer_exit_key")
	if key == "" {
		key = "*"
	}
	s.SetDTMFHook(func(d media.DTMF) bool {
		if d.Digit == rune(key[0]) {
			c.s.Hangup(core.CauseNormalClearing)
			return true
		}
		return false
	})
	defer s.SetDTMFHook(nil)
	fire(s, n.name, "bridge-consumer-start", "FIFO-Caller-UUID", c.s.UUID())
	m.db.bridged(n.name, c, s)
	bridgeTaken(ctx, s, c.s)
	m.db.unbridged(c)
	fire(s, n.name, "bridge-consumer-stop", "FIFO-Caller-UUID", c.s.UUID())
	stamp(c.s, "DONE")
}

// bridgeTaken bridges s to target once target (just taken and broken out of its app) has left
// any bridge; unlike dptools.BridgeTaken s does not follow target out.
func bridgeTaken(ctx context.Context, s, target *core.Session) {
	for i := 0; i < 100 && target.Peer() != nil && !target.HungUp(); i++ {
		if !core.Sleep(ctx, 20*time.Millisecond) {
			return
		}
	}
	if target.HungUp() {
		return
	}
	if err := s.Bridge(ctx, target); err != nil {
		s.Log().Info("fifo: bridge to caller: " + err.Error())
		target.Hangup(core.CauseNormalClearing)
	}
}

// popOrder parses fifo_pop_order ("1,2,0"), nil for the default 0..9.
func popOrder(v string) []int {
	if v == "" {
		return nil
	}
	var out []int
	for _, p := range splitList(v) {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < maxPri {
			out = append(out, n)
		}
	}
	return out
}
