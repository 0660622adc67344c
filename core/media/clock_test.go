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
