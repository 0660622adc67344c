package media_test

import (
	"context"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

func TestPipeCarriesAudioAndDTMF(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	a, b := media.NewPipe(media.PipeConfig{Clock: clk, Name: "loopback/1000"})
	defer a.Close()
	defer b.Close()
	got := make(chan media.DTMF, 1)
	b.OnDTMF(func(d media.DTMF) { got <- d })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	go func() {
		g, _ := audio.NewToneGenerator("%(200,0,1000)", 8000)
		_ = media.Play(ctx, a.Stream(), g)
	}()
	var f media.Frame
	heard := false
	for i := 0; i < 30 && !heard; i++ {
		if err := b.Stream().ReadFrame(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if len(f.PCM) != 160 || f.Rate != 8000 {
			t.Fatalf("frame %d samples at %d", len(f.PCM), f.Rate)
		}
		heard = f.Flags&media.FrameSilence == 0 && audio.Energy(f.PCM) > 0
	}
	if !heard {
		t.Fatal("tone never reached the other end")
	}
	if err := a.SendDTMF(media.DTMF{Digit: '5', Duration: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d.Digit != '5' || d.Source != "ENDPOINT" {
			t.Fatalf("got %+v", d)
		}
	case <-ctx.Done():
		t.Fatal("no DTMF")
	}
	if s := a.String(); s != "loopback/1000[a](L16/8000 20ms)" {
		t.Errorf("String %q", s)
	}
}

func TestPipeReadCancel(t *testing.T) {
	a, b := media.NewPipe(media.PipeConfig{})
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var f media.Frame
	// Drain whatever the clock already delivered; a cancelled ctx must end the wait.
	for i := 0; i < 10; i++ {
		if err := b.Stream().ReadFrame(ctx, &f); err != nil {
			return
		}
	}
	t.Fatal("ReadFrame ignored cancellation")
}

func TestPipePacesWrites(t *testing.T) {
	a, b := media.NewPipe(media.PipeConfig{Rate: 16000})
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	start := time.Now()
	f := media.Frame{PCM: make([]int16, 160), Rate: 8000} // resampled to 16 kHz by WriteFrame
	for range 10 {
		if err := a.Stream().WriteFrame(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	// 10 frames of 20 ms with a 2-frame queue: at least ~160 ms of clock time.
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Fatalf("writes not paced: %v", el)
	}
}

func TestPipeCloseFromOnDTMF(t *testing.T) {
	a, b := media.NewPipe(media.PipeConfig{})
	done := make(chan struct{})
	b.OnDTMF(func(media.DTMF) { a.Close(); b.Close(); close(done) })
	a.SendDTMF(media.DTMF{Digit: '1'})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock")
	}
}
