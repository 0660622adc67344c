package conference

import (
	"time"

	"github.com/goswitch/goswitch/apps/playback"
)

// volumeTable is switch_change_sln_volume's gain per level (-4..4).
var volumeTable = [9]float64{0.20, 0.40, 0.60, 0.80, 1, 1.3, 2.3, 3.3, 4.3}

func gain(level int) int32 { return int32(volumeTable[max(-4, min(4, level))+4] * 256) }

func clip(v int32) int16 { return int16(max(-32768, min(32767, v))) }

// tick mixes one interval on the media clock: each member's latest frame passes the energy gate
// and its talk volume into an int32 sum; each member then receives the sum minus its own voice,
// plus what is played to it alone, at its listen volume. Nothing here blocks: file sources are
// read ahead by their own goroutines and outputs are dropped when a member falls behind.
func (c *Conference) tick(time.Time) {
	type ev struct {
		action string
		m      *Member
	}
	var events []ev
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	n := c.samples
	mix := c.mix
	clear(mix)
	for _, m := range c.members {
		if !m.hasIn {
			m.score = 0
		} else {
			m.hasIn = false
			m.score = playback.Energy(m.in)
		}
		loud := m.hasInScore() && m.score >= m.energy
		switch {
		case m.flags.mute:
			if m.talking {
				m.talking = false
				events = append(events, ev{"stop-talking", m})
			}
		case loud:
			m.hang = hangover
			m.lastTalk = time.Now()
			if !m.talking {
				m.talking = true
				events = append(events, ev{"start-talking", m})
			}
		case m.talking:
			m.hang--
			if m.hang <= 0 {
				m.talking = false
				events = append(events, ev{"stop-talking", m})
			}
		}
		if cap(m.contrib) < n {
			m.contrib = make([]int32, n)
		}
		m.contrib = m.contrib[:n]
		clear(m.contrib)
		if m.talking && !m.flags.mute && !c.waiting && len(m.in) > 0 {
			g := gain(m.volIn)
			for i := 0; i < n && i < len(m.in); i++ {
				v := int32(m.in[i]) * g >> 8
				m.contrib[i] = v
				mix[i] += v
			}
		}
	}
	// Sources: the conference-wide ones go into the sum; private ones are kept per member.
	private := map[*Member][]int16{}
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
		if s.member == nil {
			for i := 0; i < n && i < len(frame); i++ {
				mix[i] += int32(frame[i])
			}
			continue
		}
		if s.member.hold == s && c.sizeLocked() > 1 && !c.waiting {
			continue // company arrived; updateAlone cancels it
		}
		if p := private[s.member]; p == nil {
			private[s.member] = frame
		} else {
			for i := 0; i < len(p) && i < len(frame); i++ {
				p[i] = clip(int32(p[i]) + int32(frame[i]))
			}
		}
	}
	clear(c.sources[len(keep):])
	c.sources = keep
	c.feedRecordings(mix)
	for _, m := range c.members {
		out := make([]int16, n)
		g := gain(m.volOut)
		audible := false
		if !m.flags.deaf {
			for i := range n {
				v := mix[i] - m.contrib[i]
				if v != 0 {
					audible = true
				}
				out[i] = clip(v * g >> 8)
			}
		}
		if p := private[m]; p != nil {
			audible = true
			for i := 0; i < n && i < len(p); i++ {
				out[i] = clip(int32(out[i]) + int32(p[i])*g>>8)
			}
		}
		if !audible && c.Profile.ComfortNoise > 0 {
			c.comfortNoise(out)
		}
		select {
		case m.out <- out:
		default:
			select { // the member fell behind: drop its oldest frame
			case <-m.out:
			default:
			}
			select {
			case m.out <- out:
			default:
			}
		}
	}
	c.mu.Unlock()
	for _, e := range events {
		c.event(e.action, e.m)
	}
}

// hasInScore reports whether the member sent audio this interval (score was computed).
func (m *Member) hasInScore() bool { return m.score > 0 }

// comfortNoise fills out with very faint noise; FreeSWITCH's level is a divisor (1400 is barely
// audible), so the peak is 32768/level.
func (c *Conference) comfortNoise(out []int16) {
	peak := int32(32768 / c.Profile.ComfortNoise)
	if peak < 1 {
		peak = 1
	}
	for i := range out {
		c.noise ^= c.noise << 13
		c.noise ^= c.noise >> 17
		c.noise ^= c.noise << 5
		out[i] = int16(int32(c.noise%uint32(2*peak+1)) - peak)
	}
}
