package media

import (
	"context"
	"testing"
	"time"
)

func constFrame(n int, v int16) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = v
	}
	return f
}

func readMixed(t *testing.T, mm *MixMember) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var f Frame
	if err := mm.Read(ctx, &f); err != nil {
		t.Fatal(err)
	}
	return append([]int16(nil), f.PCM...)
}

func TestMixerEachHearsOthers(t *testing.T) {
	m := NewMixer(MixerConfig{Manual: true})
	defer m.Close()
	a, b, c := m.Add(), m.Add(), m.Add()
	a.Write(constFrame(160, 1000))
	b.Write(constFrame(160, 300))
	m.Mix()
	if got := readMixed(t, a)[0]; got != 300 {
		t.Errorf("a hears %d, want 300", got)
	}
	if got := readMixed(t, b)[0]; got != 1000 {
		t.Errorf("b hears %d, want 1000", got)
	}
	if got := readMixed(t, c)[0]; got != 1300 {
		t.Errorf("c hears %d, want 1300", got)
	}
	if a.Energy() != 1000 || !a.Talking() || c.Talking() {
		t.Errorf("energy %d talking %v/%v", a.Energy(), a.Talking(), c.Talking())
	}
}

func TestMixerClipsAndGates(t *testing.T) {
	m := NewMixer(MixerConfig{Manual: true})
	defer m.Close()
	a, b, c, d := m.Add(), m.Add(), m.Add(), m.Add()
	a.Write(constFrame(160, 30000))
	b.Write(constFrame(160, 30000))
	c.Write(constFrame(160, 50)) // under the gate
	c.SetEnergyLevel(100)
	m.Mix()
	if got := readMixed(t, d)[0]; got != 32767 {
		t.Errorf("sum not clipped: %d", got)
	}
	if got := readMixed(t, a)[0]; got != 30000 {
		t.Errorf("gated member mixed: a hears %d", got)
	}
	readMixed(t, b)
	readMixed(t, c)
	// Mute, deaf and volume.
	a.SetMute(true)
	b.SetDeaf(true)
	c.SetVolumeOut(-4)
	a.Write(constFrame(160, 1000))
	b.Write(constFrame(160, 1000))
	c.Write(constFrame(160, 0))
	m.Mix()
	if got := readMixed(t, d)[0]; got != 1000 {
		t.Errorf("muted member heard: %d", got)
	}
	if got := readMixed(t, b)[0]; got != 0 {
		t.Errorf("deaf member hears %d", got)
	}
	if got := readMixed(t, c)[0]; got < 240 || got > 260 {
		t.Errorf("listen volume -4 gives %d, want ~251", got)
	}
}

func TestMixerComfortNoiseAndClock(t *testing.T) {
	clk := NewFakeClock(time.Unix(0, 0))
	m := NewMixer(MixerConfig{Clock: clk, ComfortNoise: 50})
	defer m.Close()
	a := m.Add()
	clk.Advance(20 * time.Millisecond)
	if e := energy(readMixed(t, a)); e == 0 {
		t.Error("no comfort noise while alone")
	}
	a.Close()
	if m.Len() != 0 {
		t.Fatal("member not removed")
	}
}

func TestMixerAttachPipes(t *testing.T) {
	clk := NewSoftClock(1)
	defer clk.Close()
	m := NewMixer(MixerConfig{Clock: clk})
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Two loopback legs: what party 1 says reaches party 2 through the mixer.
	p1, m1 := NewPipe(PipeConfig{Clock: clk})
	p2, m2 := NewPipe(PipeConfig{Clock: clk})
	defer p1.Close()
	defer m1.Close()
	defer p2.Close()
	defer m2.Close()
	_, stop1, err := m.Attach(ctx, m1.Stream())
	if err != nil {
		t.Fatal(err)
	}
	defer stop1()
	_, stop2, _ := m.Attach(ctx, m2.Stream())
	defer stop2()
	go func() {
		g, _ := NewToneGenerator("%(3000,0,800)", 8000)
		_ = Play(ctx, p1.Stream(), g)
	}()
	var f Frame
	for {
		if err := p2.Stream().ReadFrame(ctx, &f); err != nil {
			t.Fatal("party 2 never heard party 1")
		}
		if energy(f.PCM) > 1e6 {
			break
		}
	}
	cancel()
}

func TestMixNoAlloc(t *testing.T) {
	m := NewMixer(MixerConfig{Manual: true, ComfortNoise: 60})
	defer m.Close()
	var mem []*MixMember
	for range 10 {
		mem = append(mem, m.Add())
	}
	frame := constFrame(160, 500)
	if a := testing.AllocsPerRun(200, func() {
		for _, x := range mem {
			x.Write(frame)
		}
		m.Mix()
	}); a != 0 {
		t.Fatalf("%v allocs per mix", a)
	}
}
