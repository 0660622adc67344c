package conference

import (
	"time"

	"github.com/goswitch/goswitch/core/media/audio"
)

// volumeTable is switch_change_sln_volume's gain per level (-4..4).
var volumeTable = [9]float64{0.20, 0.40, 0.60, 0.80, 1, 1.3, 2.3, 3.3, 4.3}

func gain(level int) int32 { return int32(volumeTable[max(-4, min(4, level))+4] * 256) }

// This is goswitch's one mixer (a generic media.Mixer existed and was deleted unused): the room
// needs FreeSWITCH's volume steps (switch_change_sln_volume, 0.8 per step down, not 3 dB), the
// talking hangover with start/stop-talking transitions, members at other rates, audio played to
// one member only (sounds, music on hold), the full mix for recordings, and wait-mod. The DSP
// pieces it shares with the rest of the switch (Energy, Clip16, comfort noise) are in
// core/media/audio.

// tickEvent is a talking transition found by tick, published once the lock is released.
type tickEvent struct {
	action string
	m      *Member
}

// tick mixes one interval on the media clock: each member's latest frame passes the energy gate
// and its talk volume into an int32 sum; each member then receives the sum minus its own voice,
// plus what is played to it alone, at its listen volume. Nothing here blocks: file sources are
// read ahead by their own goroutines and outputs are dropped when a member falls behind.
//
// Once every member has its buffers, an interval allocates nothing (TestConferenceMixAllocs):
// contributions, private audio and output frames live in per-member buffers that the member's
// goroutine hands back after writing them, and file frames go back to their source.
func (c *Conference) tick(time.Time) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	events := c.tickEvents[:0]
	n := c.samples
	mix := c.mix
	clear(mix)
	for _, m := range c.members {
		if !m.hasIn {
			m.score = 0
		} else {
			m.hasIn = false
			m.score = audio.Energy(m.in)
		}
		loud := m.hasInScore() && m.score >= m.energy
		switch {
		case m.flags.mute:
			if m.talking {
				m.talking = false
				events = append(events, tickEvent{"stop-talking", m})
			}
		case loud:
			m.hang = hangover
			m.lastTalk = time.Now()
			if !m.talking {
				m.talking = true
				events = append(events, tickEvent{"start-talking", m})
			}
		case m.talking:
			m.hang--
			if m.hang <= 0 {
				m.talking = false
				events = append(events, tickEvent{"stop-talking", m})
			}
		}
		m.contrib = resize32(m.contrib, n)
		m.hasPriv = false
		if m.talking && !m.flags.mute && !c.waiting && len(m.in) > 0 {
			g := gain(m.volIn)
			in := m.in[:min(n, len(m.in))]
			contrib, sum := m.contrib[:len(in)], mix[:len(in)]
			for i, s := range in {
				v := int32(s) * g >> 8
				contrib[i] = v
				sum[i] += v
			}
		}
	}
	c.mixSourcesLocked(mix, n)
	c.feedRecordings(mix)
	for _, m := range c.members {
		out := m.frame(n)
		if out == nil {
			continue
		}
		g := gain(m.volOut)
		audible := false
		if m.flags.deaf {
			clear(out)
		} else {
			var nz int32
			contrib := m.contrib[:n]
			for i, s := range mix[:n] {
				v := s - contrib[i]
				nz |= v
				out[i] = audio.Clip16(v * g >> 8)
			}
			audible = nz != 0
		}
		if m.hasPriv {
			audible = true
			for i, p := range m.priv[:n] {
				out[i] = audio.Clip16(int32(out[i]) + int32(audio.Clip16(p))*g>>8)
			}
		}
		if !audible && c.Profile.ComfortNoise > 0 {
			c.comfortNoise(out)
		}
		m.send(out)
	}
	c.tickEvents = events
	c.mu.Unlock()
	for i, e := range events {
		c.event(e.action, e.m)
		events[i] = tickEvent{} // don't keep members alive through the buffer
	}
}

// mixSourcesLocked reads one frame from each playing source: the conference-wide ones go into
// mix, private ones into their member's priv sum. Finished sources are dropped. Called by tick
// under c.mu.
func (c *Conference) mixSourcesLocked(mix []int32, n int) {
	keep := c.sources[:0]
	for _, s := range c.sources {
		var frame []int16
		ok := true
		select {
		case frame, ok = <-s.frames:
		default:
		}
		if !ok {
			if s.member != nil && s.member.hold == s {
				s.member.hold = nil
			}
			continue
		}
		keep = append(keep, s)
		if frame == nil {
			continue
		}
		switch m := s.member; {
		case m == nil:
			for i := 0; i < n && i < len(frame); i++ {
				mix[i] += int32(frame[i])
			}
		case m.hold == s && c.sizeLocked() > 1 && !c.waiting:
			// company arrived; updateAlone cancels it
		default:
			if !m.hasPriv {
				m.priv, m.hasPriv = resize32(m.priv, n), true
			}
			for i := 0; i < n && i < len(frame); i++ {
				m.priv[i] += int32(frame[i])
			}
		}
		s.recycle(frame)
	}
	clear(c.sources[len(keep):])
	c.sources = keep
}

// resize32 returns buf with length n and zeroed, growing it only when it is too small.
func resize32(buf []int32, n int) []int32 {
	if cap(buf) < n {
		return make([]int32, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// hasInScore reports whether the member sent audio this interval (score was computed).
func (m *Member) hasInScore() bool { return m.score > 0 }

// comfortNoise fills out with very faint noise; FreeSWITCH's level is a divisor (1400 is barely
// audible), so the peak is 32768/level.
func (c *Conference) comfortNoise(out []int16) {
	c.noise.Fill(out, max(int32(32768/c.Profile.ComfortNoise), 1))
}
