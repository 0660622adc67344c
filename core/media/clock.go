package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock runs periodic media work on shared goroutines. Callbacks must not block.
type Clock interface {
	Now() time.Time
	// Every calls fn once per period on absolute deadlines until cancel is called, passing the
	// deadline it runs for (on the period grid, not the wall time it actually started). A clock
	// that falls behind skips the deadlines it missed instead of bursting (receivers prefer a
	// gap), so two calls may be several periods apart: callbacks that count samples per call
	// must count (deadline - previous deadline) / period frames, not one. After cancel returns fn
	// is not started again; a call already in progress may still finish, so fn must check its
	// owner's closed state under the owner's lock.
	Every(period time.Duration, fn func(deadline time.Time)) (cancel func())
}

// SoftClock is the shared, sharded scheduler: one goroutine per (period, shard), woken on absolute
// deadlines (FreeSWITCH's soft timer idea). Callbacks registered with the same period are spread
// over the shards round-robin, so 2,000 streams cost 2 wake-ups per 20 ms, not 2,000. Shards
// tick at staggered phases, and on Linux sleep on a timerfd (clock_timerfd.go): Go's timers wake
// with millisecond granularity when the process is idle.
type SoftClock struct {
	shards int
	next   atomic.Uint64

	mu       sync.Mutex
	closed   bool
	wheels   map[wheelKey]*wheel
	wg       sync.WaitGroup
	stop     chan struct{}
	sleepers []sleeper                        // the shards' waits, woken by Close
	LateLog  func(period, late time.Duration) // optional: called when a shard misses a deadline
}

type wheelKey struct {
	period time.Duration
	shard  int
}

// wheel is one shard goroutine's callback list.
type wheel struct {
	mu  sync.Mutex
	cbs []*clockEntry
}

type clockEntry struct {
	fn   func(time.Time)
	dead atomic.Bool
}

// NewSoftClock creates a clock with the given number of shards (<= 0 means 2). Close stops it.
func NewSoftClock(shards int) *SoftClock {
	if shards <= 0 {
		shards = 2
	}
	return &SoftClock{shards: shards, wheels: map[wheelKey]*wheel{}, stop: make(chan struct{})}
}

// Now returns the wall clock.
func (c *SoftClock) Now() time.Time { return time.Now() }

// Every implements Clock.
func (c *SoftClock) Every(period time.Duration, fn func(time.Time)) func() {
	if period <= 0 {
		panic("media: clock period must be positive")
	}
	shard := int(c.next.Add(1) % uint64(c.shards))
	e := &clockEntry{fn: fn}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return func() {}
	}
	k := wheelKey{period, shard}
	w := c.wheels[k]
	if w == nil {
		w = &wheel{}
		c.wheels[k] = w
		c.wg.Add(1)
		go c.run(period, shard, w)
	}
	c.mu.Unlock()
	w.mu.Lock()
	w.cbs = append(w.cbs, e)
	w.mu.Unlock()
	return func() {
		if e.dead.Swap(true) {
			return
		}
		w.mu.Lock()
		for i, x := range w.cbs {
			if x == e {
				w.cbs = append(w.cbs[:i], w.cbs[i+1:]...)
				break
			}
		}
		w.mu.Unlock()
	}
}

func (c *SoftClock) run(period time.Duration, shard int, w *wheel) {
	defer c.wg.Done()
	sl := newSleeper(c.stop)
	defer sl.close()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sleepers = append(c.sleepers, sl)
	c.mu.Unlock()
	// Shards tick at staggered phases, so their sends spread over the period instead of every
	// shard bursting on the same instant.
	next := time.Now().Add(period + period*time.Duration(shard)/time.Duration(c.shards))
	var batch []*clockEntry
	for {
		if !sl.sleepUntil(next) {
			return
		}
		if late := time.Since(next); late >= period {
			// Skip the missed ticks instead of bursting: receivers prefer a gap to a burst. The
			// grid is kept, so callbacks see the deadline jump by whole periods and can advance
			// their RTP timestamps by the frames they missed.
			if c.LateLog != nil {
				c.LateLog(period, late)
			}
			next = next.Add(late / period * period)
		}
		w.mu.Lock()
		batch = append(batch[:0], w.cbs...)
		w.mu.Unlock()
		for _, e := range batch {
			if !e.dead.Load() {
				e.fn(next)
			}
		}
		clear(batch)
		next = next.Add(period)
	}
}

// Close stops every shard goroutine and waits for them.
func (c *SoftClock) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.stop)
	for _, sl := range c.sleepers {
		sl.wake()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// FakeClock is a manually advanced Clock for tests: Advance runs due callbacks synchronously.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	entries []*fakeEntry
}

type fakeEntry struct {
	period time.Duration
	next   time.Time
	fn     func(time.Time)
	dead   bool
}

// NewFakeClock starts at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Every implements Clock.
func (c *FakeClock) Every(period time.Duration, fn func(time.Time)) func() {
	c.mu.Lock()
	e := &fakeEntry{period: period, next: c.now.Add(period), fn: fn}
	c.entries = append(c.entries, e)
	c.mu.Unlock()
	return func() { c.mu.Lock(); e.dead = true; c.mu.Unlock() }
}

// Advance moves time forward by d, firing callbacks in deadline order.
func (c *FakeClock) Advance(d time.Duration) { c.advance(d, false) }

// Stall moves time forward by d like a SoftClock shard that fell behind: each callback due in
// that time runs once, for its last deadline, and the deadlines before it are skipped.
func (c *FakeClock) Stall(d time.Duration) { c.advance(d, true) }

func (c *FakeClock) advance(d time.Duration, skip bool) {
	c.mu.Lock()
	end := c.now.Add(d)
	if skip {
		for _, e := range c.entries {
			if !e.dead && !e.next.After(end) {
				e.next = e.next.Add(end.Sub(e.next) / e.period * e.period)
			}
		}
	}
	for {
		var due *fakeEntry
		for _, e := range c.entries {
			if !e.dead && !e.next.After(end) && (due == nil || e.next.Before(due.next)) {
				due = e
			}
		}
		if due == nil {
			break
		}
		c.now = due.next
		due.next = due.next.Add(due.period)
		now := c.now
		c.mu.Unlock()
		due.fn(now)
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}
