package rtp

import (
	"testing"
	"time"
)

// jtest drives a buffer with packets arriving at chosen times and pops on a fake 20 ms clock.
type jtest struct {
	j   *JitterBuffer
	now time.Time
}

func newJTest() *jtest {
	return &jtest{j: NewJitterBuffer(JitterConfig{}), now: time.Unix(1000, 0)}
}

func (x *jtest) push(seq uint16, ssrc uint32) {
	x.j.Push(seq, uint32(seq)*160, ssrc, false, []byte{byte(seq), byte(seq >> 8)}, x.now)
}

func (x *jtest) pop() (int, JitterStatus) {
	x.now = x.now.Add(20 * time.Millisecond)
	b, st := x.j.Pop(make([]byte, 0, 16))
	if st != JitterOK {
		return -1, st
	}
	return int(b[0]) | int(b[1])<<8, st
}

func TestJitterInOrder(t *testing.T) {
	x := newJTest()
	for s := uint16(100); s < 110; s++ {
		x.push(s, 1)
		got, st := x.pop()
		if st != JitterOK || got != int(s) {
			t.Fatalf("seq %d: got %d %v", s, got, st)
		}
	}
	if st := x.j.Stats(); st.Played != 10 || st.Lost != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestJitterReorderLossDuplicate(t *testing.T) {
	x := newJTest()
	// Arrivals: 1, 3, 2 (reordered), 2 again (duplicate), 5 (4 lost), 6.
	for _, s := range []uint16{1, 3, 2, 2} {
		x.push(s, 7)
	}
	x.push(5, 7)
	x.push(6, 7)
	var got []int
	var sts []JitterStatus
	for range 6 {
		v, st := x.pop()
		got = append(got, v)
		sts = append(sts, st)
	}
	want := []int{1, 2, 3, -1, 5, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("played %v (%v), want %v", got, sts, want)
		}
	}
	if sts[3] != JitterLost {
		t.Fatalf("missing packet reported as %v", sts[3])
	}
	st := x.j.Stats()
	if st.Dup != 1 || st.Lost != 1 || st.Played != 5 {
		t.Fatalf("%+v", st)
	}
	// A packet older than the playout point is late.
	x.push(4, 7)
	if x.j.Stats().Late != 1 {
		t.Fatalf("late not counted: %+v", x.j.Stats())
	}
}

func TestJitterResetOnSSRCAndJump(t *testing.T) {
	x := newJTest()
	x.push(10, 1)
	x.pop()
	x.push(11, 1)
	x.push(5000, 1) // a large jump restarts the buffer
	if v, _ := x.pop(); v != 5000 {
		t.Fatalf("after jump played %d", v)
	}
	x.push(77, 2) // new SSRC
	if v, _ := x.pop(); v != 77 {
		t.Fatalf("after SSRC change played %d", v)
	}
	if x.j.Stats().Resets != 2 {
		t.Fatalf("resets %d", x.j.Stats().Resets)
	}
}

func TestJitterAdaptsDepth(t *testing.T) {
	x := newJTest()
	// Packets arrive in bursts of three every 60 ms: ±40 ms jitter.
	seq := uint16(0)
	for round := 0; round < 40; round++ {
		for k := 0; k < 3; k++ {
			x.push(seq, 1)
			seq++
		}
		x.pop()
		x.pop()
		x.pop()
	}
	st := x.j.Stats()
	if st.Target < 60*time.Millisecond || st.Target > 200*time.Millisecond {
		t.Fatalf("target %v for bursty arrival (jitter %v)", st.Target, st.Jitter)
	}
	// Smooth arrival brings the target back down over time.
	y := newJTest()
	for s := uint16(0); s < 200; s++ {
		y.push(s, 1)
		y.pop()
	}
	if tg := y.j.Stats().Target; tg != 20*time.Millisecond {
		t.Fatalf("smooth target %v", tg)
	}
}

func TestJitterBufferingAndEmpty(t *testing.T) {
	j := NewJitterBuffer(JitterConfig{Min: 60 * time.Millisecond})
	now := time.Unix(0, 0)
	if _, st := j.Pop(nil); st != JitterEmpty {
		t.Fatalf("empty buffer: %v", st)
	}
	j.Push(1, 160, 1, false, []byte{1}, now)
	if _, st := j.Pop(nil); st != JitterBuffering {
		t.Fatalf("below target: %v", st)
	}
	j.Push(2, 320, 1, false, []byte{2}, now)
	j.Push(3, 480, 1, false, []byte{3}, now)
	if b, st := j.Pop(nil); st != JitterOK || b[0] != 1 {
		t.Fatalf("at target: %v %v", b, st)
	}
}

func TestJitterNoAlloc(t *testing.T) {
	x := newJTest()
	pay := make([]byte, 160)
	dst := make([]byte, 0, 400)
	seq := uint16(0)
	if a := testing.AllocsPerRun(500, func() {
		x.j.Push(seq, uint32(seq)*160, 1, false, pay, x.now)
		x.now = x.now.Add(20 * time.Millisecond)
		x.j.Pop(dst)
		seq++
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}
