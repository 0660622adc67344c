package media

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestSoftClockShardsAndCancel(t *testing.T) {
	c := NewSoftClock(2)
	defer c.Close()
	var n [4]atomic.Int32
	var cancels []func()
	for i := range n {
		cancels = append(cancels, c.Every(10*time.Millisecond, func(time.Time) { n[i].Add(1) }))
	}
	time.Sleep(120 * time.Millisecond)
	for i := range n {
		if v := n[i].Load(); v < 3 || v > 13 {
			t.Errorf("callback %d ran %d times in 120 ms at 10 ms", i, v)
		}
	}
	cancels[0]()
	before := n[0].Load()
	time.Sleep(50 * time.Millisecond)
	if n[0].Load() > before+1 {
		t.Error("cancelled callback still running")
	}
	c.mu.Lock()
	wheels := len(c.wheels)
	c.mu.Unlock()
	if wheels != 2 {
		t.Errorf("%d goroutines for one period on 2 shards", wheels)
	}
}

func TestFakeClockOrder(t *testing.T) {
	c := NewFakeClock(time.Unix(0, 0))
	var got []string
	c.Every(20*time.Millisecond, func(time.Time) { got = append(got, "a") })
	cancel := c.Every(30*time.Millisecond, func(time.Time) { got = append(got, "b") })
	c.Advance(60 * time.Millisecond)
	cancel()
	c.Advance(40 * time.Millisecond)
	want := "a b a a b a a"
	s := ""
	for i, x := range got {
		if i > 0 {
			s += " "
		}
		s += x
	}
	if s != want {
		t.Fatalf("got %q want %q", s, want)
	}
}

// TestSoftClockLateKeepsGrid: a callback that blocks for 3.5 periods makes the shard miss
// deadlines. They are skipped (no burst: no call runs for a deadline a period or more in the
// past), and the deadlines handed to fn stay on the period grid, so callbacks can count the
// frames they missed.
func TestSoftClockLateKeepsGrid(t *testing.T) {
	const period = 20 * time.Millisecond
	c := NewSoftClock(1)
	defer c.Close()
	var late atomic.Int32
	c.LateLog = func(time.Duration, time.Duration) { late.Add(1) }
	type call struct{ deadline, at time.Time }
	calls := make(chan call, 64)
	var n int
	cancel := c.Every(period, func(d time.Time) {
		calls <- call{d, time.Now()}
		if n++; n == 3 {
			time.Sleep(period*3 + period/2)
		}
	})
	var got []call
	for len(got) < 8 {
		got = append(got, <-calls)
	}
	cancel()
	var skipped int
	for i := 1; i < len(got); i++ {
		d := got[i].deadline.Sub(got[i-1].deadline)
		if d%period != 0 || d <= 0 {
			t.Fatalf("call %d: deadline moved by %v, not whole periods", i, d)
		}
		skipped += int(d/period) - 1
		if stale := got[i].at.Sub(got[i].deadline); stale >= period+2*time.Millisecond {
			t.Errorf("call %d ran %v after its deadline: a missed tick run late (burst)", i, stale)
		}
		if got[i].at.Before(got[i].deadline) {
			t.Errorf("call %d ran before its deadline", i)
		}
	}
	if skipped < 2 || late.Load() == 0 {
		t.Fatalf("skipped %d periods, LateLog called %d times; want >= 2 and > 0", skipped, late.Load())
	}
}

// TestFakeClockStall: Stall runs each due callback once, for its last deadline.
func TestFakeClockStall(t *testing.T) {
	start := time.Unix(0, 0)
	c := NewFakeClock(start)
	var got []time.Duration
	c.Every(20*time.Millisecond, func(d time.Time) { got = append(got, d.Sub(start)) })
	c.Advance(40 * time.Millisecond)
	c.Stall(110 * time.Millisecond) // deadlines 60..140 ms are due; only 140 runs
	c.Advance(20 * time.Millisecond)
	want := []time.Duration{20, 40, 140, 160}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("got %v, want %v ms", got, want)
		}
	}
}

// TestSoftClockCloseWakesSleep: Close must not wait out a shard's sleep (the Linux clock sleeps
// on a timerfd in the netpoller, which only Close's wake-up interrupts).
func TestSoftClockCloseWakesSleep(t *testing.T) {
	c := NewSoftClock(2)
	c.Every(time.Hour, func(time.Time) {})
	c.Every(time.Hour, func(time.Time) {})
	time.Sleep(20 * time.Millisecond) // let both shards go to sleep
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
}

// TestSoftClockTicksOnTime: ticks arrive on their deadlines, not early, and on a quiet machine
// well within a millisecond (loose bound: the test must not flake on a busy one).
func TestSoftClockTicksOnTime(t *testing.T) {
	c := NewSoftClock(1)
	defer c.Close()
	const n = 20
	late := make(chan time.Duration, n)
	c.Every(5*time.Millisecond, func(deadline time.Time) {
		select {
		case late <- time.Since(deadline):
		default:
		}
	})
	var worst time.Duration
	for range n {
		d := <-late
		if d < 0 {
			t.Fatalf("tick %v before its deadline", -d)
		}
		worst = max(worst, d)
	}
	if worst > 100*time.Millisecond {
		t.Fatalf("a tick came %v late", worst)
	}
}
