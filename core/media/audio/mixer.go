package media

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// MixerConfig configures a conference mixer. Zero values: 8 kHz, 20 ms, a private clock,
// comfort noise off, energy level 0.
type MixerConfig struct {
	Rate         int
	Ptime        time.Duration
	Clock        Clock // nil: the mixer owns a clock; set Manual to drive Mix yourself instead
	Manual       bool  // do not register on a clock (tests, benchmarks)
	ComfortNoise uint8 // RFC 3389 level (-dBov) heard when nobody talks; 0 = silence
}

// Mixer mixes N members: each hears everyone who is talking except itself. Accumulation is in
// int32 with clipping at the end, per-member talk/listen volume, an energy gate (FreeSWITCH
// energy-level) and optional comfort noise. Mix runs once per ptime on the clock and allocates
// nothing.
type Mixer struct {
	cfg     MixerConfig
	samples int
	ownClk  *SoftClock
	cancel  func()

	mu      sync.Mutex
	members []*MixMember
	nextID  int
	acc     []int32
	tmp     []int32
	cn      *ComfortNoise
	cnBuf   []int16
	closed  bool
}

// MixMember is one party of a Mixer.
type MixMember struct {
	m     *Mixer
	id    int
	in    *frameQueue // what the member says
	out   *frameQueue // what the member hears
	cur   []int16
	mixed []int16
	buf   []int16

	// Guarded by m.mu.
	volIn, volOut float64
	energyLevel   int
	energy        int
	talking       bool
	mute, deaf    bool
	closed        bool
}

// NewMixer creates a mixer; Close stops it.
func NewMixer(cfg MixerConfig) *Mixer {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Ptime == 0 {
		cfg.Ptime = 20 * time.Millisecond
	}
	m := &Mixer{cfg: cfg, samples: cfg.Rate * int(cfg.Ptime/time.Millisecond) / 1000}
	m.acc = make([]int32, m.samples)
	m.tmp = make([]int32, m.samples)
	m.cnBuf = make([]int16, m.samples)
	if cfg.ComfortNoise > 0 {
		m.cn = NewComfortNoise(cfg.ComfortNoise)
	}
	if !cfg.Manual {
		if cfg.Clock == nil {
			m.ownClk = NewSoftClock(1)
			cfg.Clock = m.ownClk
		}
		m.cancel = cfg.Clock.Every(cfg.Ptime, func(time.Time) { m.Mix() })
	}
	return m
}

// Rate and Samples describe the mixer's frames.
func (m *Mixer) Rate() int    { return m.cfg.Rate }
func (m *Mixer) Samples() int { return m.samples }

// Add creates a member at unity volume.
func (m *Mixer) Add() *MixMember {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	mm := &MixMember{m: m, id: m.nextID, in: newFrameQueue(3, m.samples), out: newFrameQueue(3, m.samples),
		cur: make([]int16, 0, m.samples), mixed: make([]int16, m.samples), buf: make([]int16, 0, m.samples),
		volIn: 1, volOut: 1}
	m.members = append(m.members, mm)
	return mm
}

// Len reports the member count.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

// Mix runs one mixing step: take one frame from every member, sum the talkers, hand each member
// the sum minus its own contribution.
func (m *Mixer) Mix() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	clear(m.acc)
	talkers := 0
	for _, mm := range m.members {
		pcm, _, _, ok := mm.in.tryPop(mm.cur)
		mm.cur = pcm
		if !ok {
			mm.cur = mm.cur[:0]
		}
		mm.energy = meanAbs(mm.cur)
		mm.talking = !mm.mute && len(mm.cur) > 0 && mm.energy >= mm.energyLevel
		if !mm.talking {
			continue
		}
		talkers++
		g := int32(mm.volIn * 256)
		acc := m.acc
		if g == 256 {
			for i, s := range mm.cur[:min(len(mm.cur), len(acc))] {
				acc[i] += int32(s)
			}
		} else {
			for i, s := range mm.cur[:min(len(mm.cur), len(acc))] {
				acc[i] += int32(s) * g >> 8
			}
		}
	}
	noise := m.cn != nil
	if noise {
		m.cn.Fill(m.cnBuf)
	}
	for _, mm := range m.members {
		if mm.deaf {
			clear(mm.mixed)
			mm.out.tryPush(mm.mixed, 0, 0, true)
			continue
		}
		// Start from everyone's sum, take out the member's own voice, add comfort noise when
		// nobody else talks, apply the listen volume. Separate passes keep the loops branch-free.
		t := m.tmp
		copy(t, m.acc)
		others := talkers
		if mm.talking {
			others--
			g := int32(mm.volIn * 256)
			for i, s := range mm.cur[:min(len(mm.cur), len(t))] {
				t[i] -= int32(s) * g >> 8
			}
		}
		if others == 0 && noise {
			for i, s := range m.cnBuf {
				t[i] += int32(s)
			}
		}
		vo := int32(mm.volOut * 256)
		out := mm.mixed[:len(t)]
		if vo == 256 {
			for i, v := range t {
				out[i] = clip16(v)
			}
		} else {
			for i, v := range t {
				out[i] = clip16(v * vo >> 8)
			}
		}
		mm.out.tryPush(mm.mixed, 0, 0, true)
	}
}

func meanAbs(pcm []int16) int {
	if len(pcm) == 0 {
		return 0
	}
	var s int
	for _, v := range pcm {
		x := int(v)
		m := x >> 63
		s += (x ^ m) - m // |x| without a data-dependent branch
	}
	return s / len(pcm)
}

// Close stops the mixer and releases its members' waiters.
func (m *Mixer) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	members := m.members
	m.mu.Unlock()
	if m.cancel != nil {
		m.cancel()
	}
	if m.ownClk != nil {
		m.ownClk.Close()
	}
	for _, mm := range members {
		mm.in.close()
		mm.out.close()
	}
}

// Write queues what the member says (one or more frames at the mixer's rate); it never blocks
// and drops the oldest frame when the member runs ahead of the mixer.
func (mm *MixMember) Write(pcm []int16) {
	for len(pcm) > 0 {
		n := min(len(pcm), mm.m.samples)
		mm.in.tryPush(pcm[:n], 0, 0, true)
		pcm = pcm[n:]
	}
}

// Read blocks until the next mixed frame for this member. f.PCM is valid until the next Read.
func (mm *MixMember) Read(ctx context.Context, f *Frame) error {
	pcm, _, _, err := mm.out.pop(ctx, mm.buf)
	if err != nil {
		return err
	}
	mm.buf = pcm
	f.PCM, f.Rate, f.TS, f.Flags = pcm, mm.m.cfg.Rate, 0, 0
	return nil
}

// volumeGain maps FreeSWITCH's -4..4 volume steps to a gain (about 3 dB per step).
func volumeGain(level int) float64 {
	level = max(-4, min(4, level))
	return math.Pow(10, float64(level)*3/20)
}

// SetVolumeIn sets the talk volume (-4..4), SetVolumeOut the listen volume.
func (mm *MixMember) SetVolumeIn(level int)  { mm.set(func() { mm.volIn = volumeGain(level) }) }
func (mm *MixMember) SetVolumeOut(level int) { mm.set(func() { mm.volOut = volumeGain(level) }) }

// SetEnergyLevel sets the noise gate: frames whose mean absolute sample is below it are not
// mixed (FreeSWITCH energy-level, default 100 in the vanilla profile).
func (mm *MixMember) SetEnergyLevel(level int) { mm.set(func() { mm.energyLevel = level }) }

// SetMute stops the member being heard; SetDeaf stops it hearing.
func (mm *MixMember) SetMute(on bool) { mm.set(func() { mm.mute = on }) }
func (mm *MixMember) SetDeaf(on bool) { mm.set(func() { mm.deaf = on }) }

func (mm *MixMember) set(fn func()) {
	mm.m.mu.Lock()
	fn()
	mm.m.mu.Unlock()
}

// Energy is the member's last frame's mean absolute sample; Talking says whether it was mixed.
func (mm *MixMember) Energy() int {
	mm.m.mu.Lock()
	defer mm.m.mu.Unlock()
	return mm.energy
}

// Talking reports whether the member's last frame passed the gate.
func (mm *MixMember) Talking() bool {
	mm.m.mu.Lock()
	defer mm.m.mu.Unlock()
	return mm.talking
}

// ID is the member's number within the mixer.
func (mm *MixMember) ID() int { return mm.id }

// Close removes the member.
func (mm *MixMember) Close() {
	m := mm.m
	m.mu.Lock()
	for i, x := range m.members {
		if x == mm {
			m.members = append(m.members[:i], m.members[i+1:]...)
			break
		}
	}
	mm.closed = true
	m.mu.Unlock()
	mm.in.close()
	mm.out.close()
}

// Attach joins a Stream to the mixer: two goroutines copy the stream's frames in and the mix out
// until ctx ends or stop is called. The stream's rate must match the mixer's.
func (m *Mixer) Attach(ctx context.Context, s Stream) (*MixMember, func(), error) {
	if s.Rate() != m.cfg.Rate {
		return nil, nil, fmt.Errorf("media: stream rate %d, mixer rate %d", s.Rate(), m.cfg.Rate)
	}
	mm := m.Add()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var f Frame
		for s.ReadFrame(ctx, &f) == nil {
			mm.Write(f.PCM)
		}
	}()
	go func() {
		defer wg.Done()
		var f Frame
		for mm.Read(ctx, &f) == nil {
			if s.WriteFrame(ctx, &f) != nil {
				return
			}
		}
	}()
	var once sync.Once
	return mm, func() { once.Do(func() { cancel(); mm.Close(); wg.Wait() }) }, nil
}
