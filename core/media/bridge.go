package media

import (
	"context"
	"sync"
)

// Bridge joins two ports so each far end hears the other, until stop is called or a port fails.
// This generic form copies decoded frames through both ports' Streams; ports that can relay
// packets without decoding (same codec, RTP on both sides) take a faster path.
func Bridge(a, b Port) (stop func(), err error) {
	if r, ok := a.(Relayer); ok {
		if stop, ok := r.Relay(b); ok {
			return stop, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go copyFrames(ctx, &wg, a.Stream(), b.Stream())
	go copyFrames(ctx, &wg, b.Stream(), a.Stream())
	return func() { cancel(); wg.Wait() }, nil
}

// Relayer is implemented by ports that can forward packets to another port without decoding.
// Relay reports false when it cannot (codecs differ, taps attached, different port kinds).
type Relayer interface {
	Relay(to Port) (stop func(), ok bool)
}

func copyFrames(ctx context.Context, wg *sync.WaitGroup, from, to Stream) {
	defer wg.Done()
	var f Frame
	for {
		if err := from.ReadFrame(ctx, &f); err != nil {
			return
		}
		if err := to.WriteFrame(ctx, &f); err != nil {
			return
		}
	}
}
