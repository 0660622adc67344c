package media

import (
	"context"
	"sync"
)

// Bridge joins two ports so each far end hears the other, until stop is called or a port fails.
// This generic form copies decoded frames through both ports' Streams; ports that can relay
// packets without decoding (same codec, RTP on both sides) take a faster path.
//
// Bridge also carries DTMF: a digit received on one port is sent on the other in the form that
// port negotiated (RFC 4733 events, in-band tones or SIP INFO), and still reported to the
// receiving port's OnDTMF. Callers must therefore not re-send bridged digits themselves.
func Bridge(a, b Port) (stop func(), err error) {
	if r, ok := a.(Relayer); ok {
		if stop, ok := r.Relay(b); ok {
			return stop, nil
		}
	}
	unlink := linkDTMF(a, b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go copyFrames(ctx, &wg, a.Stream(), b.Stream())
	go copyFrames(ctx, &wg, b.Stream(), a.Stream())
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait(); unlink() }) }, nil
}

// Relayer is implemented by ports that can forward packets to another port without decoding.
// Relay reports false when it cannot (codecs differ, taps attached, different port kinds).
type Relayer interface {
	Relay(to Port) (stop func(), ok bool)
}

// dtmfPeerSetter is implemented by our ports: digits received are also sent to the peer.
type dtmfPeerSetter interface {
	SetDTMFPeer(to Port)
}

func linkDTMF(a, b Port) (unlink func()) {
	sa, okA := a.(dtmfPeerSetter)
	sb, okB := b.(dtmfPeerSetter)
	if okA {
		sa.SetDTMFPeer(b)
	}
	if okB {
		sb.SetDTMFPeer(a)
	}
	return func() {
		if okA {
			sa.SetDTMFPeer(nil)
		}
		if okB {
			sb.SetDTMFPeer(nil)
		}
	}
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
