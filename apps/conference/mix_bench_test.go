package conference

import (
	"math"
	"testing"
	"time"
)

// benchConference builds a room of n members, talkers of them speaking a tone, driven by hand
// (no clock, no sessions): the state tick sees every interval in a busy conference.
func benchConference(n, talkers int) (*Conference, func()) {
	p := &Profile{Name: "bench", Params: map[string]string{}, Rate: 8000, Interval: 20, EnergyLevel: 100, ComfortNoise: 1400}
	c := newConference(&Module{}, "bench", p, nil)
	tone, quiet := make([]int16, c.samples), make([]int16, c.samples)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*500*float64(i)/8000))
	}
	for i := range n {
		m := newMember(i+1, nil)
		m.c, m.energy = c, p.EnergyLevel
		if i < talkers {
			m.talking, m.hang = true, hangover // already talking: no start-talking event in the loop
		}
		c.members = append(c.members, m)
	}
	feed := func() {
		for i, m := range c.members {
			m.in = m.in[:0]
			if i < talkers {
				m.in = append(m.in, tone...)
			} else {
				m.in = append(m.in, quiet...)
			}
			m.hasIn = true
			drainMember(m)
		}
	}
	return c, feed
}

func BenchmarkConferenceMix(b *testing.B) {
	c, feed := benchConference(10, 3)
	b.ReportAllocs()
	for b.Loop() {
		feed()
		c.tick(time.Time{})
	}
}

func TestConferenceMixAllocs(t *testing.T) {
	c, feed := benchConference(10, 3)
	for range 10 { // warm up: buffers are made on first use
		feed()
		c.tick(time.Time{})
	}
	if n := testing.AllocsPerRun(200, func() { feed(); c.tick(time.Time{}) }); n != 0 {
		t.Errorf("conference mix allocates %.1f times per interval, want 0", n)
	}
}

// drainMember plays the member's goroutine: take the mixed frames, give the buffers back.
func drainMember(m *Member) {
	for len(m.out) > 0 {
		m.free <- <-m.out
	}
}
