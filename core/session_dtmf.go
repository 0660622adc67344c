package core

import (
	"context"
	"strconv"
	"time"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// DTMF returns the channel's received digits, for applications (read, IVR, playback terminators).
func (s *Session) DTMF() <-chan media.DTMF { return s.dtmf }

// SetDTMFHook installs a filter that sees every received digit first and swallows it by returning
// true (bind_meta_app). nil removes it.
func (s *Session) SetDTMFHook(fn func(media.DTMF) bool) {
	s.mu.Lock()
	s.dtmfHook = fn
	s.mu.Unlock()
}

// SetPeerDTMFHook installs a filter for the digits this channel's bridged peer receives from its
// far end (bind_meta_app listening on the b leg); it swallows a digit by returning true. nil
// removes it.
func (s *Session) SetPeerDTMFHook(fn func(from *Session, d media.DTMF) bool) {
	s.mu.Lock()
	s.peerHook = fn
	s.mu.Unlock()
}

// bridgedPeerHook returns the peer DTMF hook of the channel this one is bridged with, if any.
func (s *Session) bridgedPeerHook() func(*Session, media.DTMF) bool {
	s.mu.Lock()
	br := s.bridge
	s.mu.Unlock()
	if br == nil {
		return nil
	}
	o := br.other(s)
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.peerHook
}

// QueueDTMF delivers a received digit: DTMF event, meta-key hook, then the application queue
// (dropped when full, as an unread digit is stale anyway).
func (s *Session) QueueDTMF(d media.DTMF) { s.DeliverDTMF(d) }

// HasDTMFHook reports whether a DTMF hook (SetDTMFHook, bind_meta_app) wants to see received
// digits before a media bridge passes them on.
func (s *Session) HasDTMFHook() bool {
	s.mu.Lock()
	hooked := s.dtmfHook != nil
	s.mu.Unlock()
	return hooked || s.bridgedPeerHook() != nil
}

// DeliverDTMF is QueueDTMF that reports whether the channel kept the digit: a hook swallowed it,
// so it must not cross a bridge (rtp.RTPPort.SetDTMFGate).
func (s *Session) DeliverDTMF(d media.DTMF) (kept bool) {
	s.publishChannel("DTMF", func(e *event.Event) {
		e.Add("DTMF-Digit", string(d.Digit))
		e.Add("DTMF-Duration", strconv.Itoa(d.Samples()))
		src := d.Source
		if src == "" {
			src = "UNKNOWN"
		}
		e.Add("DTMF-Source", src)
	})
	s.mu.Lock()
	hook := s.dtmfHook
	s.mu.Unlock()
	if hook != nil && hook(d) {
		return true
	}
	if ph := s.bridgedPeerHook(); ph != nil && ph(s, d) {
		return true
	}
	select {
	case s.dtmf <- d:
	default:
	}
	return false
}

// FlushDTMF discards digits waiting in the queue.
func (s *Session) FlushDTMF() {
	for {
		select {
		case <-s.dtmf:
		default:
			return
		}
	}
}

// SendDTMF sends digits to the far end; each rune is one digit, 'w'/'W' pause 500 ms/1 s.
func (s *Session) SendDTMF(ctx context.Context, digits string, dur time.Duration) error {
	l := s.Leg()
	if l == nil {
		return ErrNoMedia
	}
	if dur <= 0 {
		dur = 250 * time.Millisecond
	}
	for _, r := range digits {
		switch r {
		case 'w':
			sleepCtx(ctx, 500*time.Millisecond)
			continue
		case 'W':
			sleepCtx(ctx, time.Second)
			continue
		}
		if err := l.SendDTMF(media.DTMF{Digit: r, Duration: dur, Source: "APP"}); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Sleep waits d or until ctx ends; it reports whether the full time passed.
func Sleep(ctx context.Context, d time.Duration) bool { return sleepCtx(ctx, d) }
