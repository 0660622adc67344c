package core

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// FilePlayer plays a FreeSWITCH file string (local_stream://moh, a path, tone_stream://...) into
// st on behalf of s until the audio ends or ctx does. apps/playback registers the full player;
// the core uses it for hold music.
type FilePlayer func(ctx context.Context, s *Session, st media.Stream, file string) error

var filePlayer atomic.Pointer[FilePlayer]

// RegisterFilePlayer installs the player the core uses for hold music (from an init function).
func RegisterFilePlayer(fn FilePlayer) { filePlayer.Store(&fn) }

// defaultHoldMusic is what FreeSWITCH plays when neither temp_hold_music nor hold_music is set
// (switch_core_media_toggle_hold).
const defaultHoldMusic = "local_stream://moh"

// HoldMusic returns the channel's hold music: temp_hold_music, else hold_music (a channel
// variable or the $${hold_music} global), expanded, else local_stream://moh.
func (s *Session) HoldMusic() string {
	v := s.Var("temp_hold_music")
	if v == "" {
		v = s.Var("hold_music")
	}
	if v = strings.TrimSpace(s.Expand(v)); v == "" {
		v = defaultHoldMusic
	}
	return v
}

// Holding reports whether the far end has put this channel on hold.
func (s *Session) Holding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// MarkHold is called by an endpoint when the far end puts the channel on hold (a re-INVITE with
// sendonly, inactive or c=0.0.0.0) or takes it off hold, and by uuid_hold. Each change fires
// CHANNEL_HOLD or CHANNEL_UNHOLD and moves an answered channel's call state to HELD or UNHELD
// (switch_channel_mark_hold). While an answered channel is bridged and held, the
// other party hears this channel's HoldMusic instead of its audio, and the media bridge resumes
// on unhold, as FreeSWITCH's switch_core_media_toggle_hold broadcasts hold_music to the partner;
// a hold music of "silence" plays nothing.
func (s *Session) MarkHold(on bool) {
	s.mu.Lock()
	if s.holding == on {
		s.mu.Unlock()
		return
	}
	s.holding = on
	br := s.bridge
	s.mu.Unlock()
	name := event.ChannelUnhold
	if on {
		name = event.ChannelHold
	}
	if s.Answered() { // CF_LEG_HOLDING moves the call state of an answered channel
		if on {
			s.setCallState(CallHeld)
		} else {
			s.setCallState(CallUnheld)
		}
	}
	s.publishChannel(name, nil)
	if br != nil && (s.Answered() || !on) {
		br.hold(s, on)
	}
}

// holdPlay is hold music playing to one side of a bridge.
type holdPlay struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startMediaLocked joins the two ports (relay when possible), unless hold music already plays
// (a hold that came before the bridge's media started). br.mu must be held.
func (br *bridge) startMediaLocked() {
	if j := br.joined; j != nil && !br.closed && len(br.music) == 0 {
		br.joined = nil
		br.stopMedia = j
		br.media.Store(true)
		return
	}
	pa, pb := br.a.Port(), br.b.Port()
	if pa == nil || pb == nil || br.closed || len(br.music) > 0 {
		return
	}
	stop, err := media.Bridge(pa, pb)
	if err != nil {
		br.a.log.Warn("media bridge failed", "err", err)
		return
	}
	br.stopMedia = stop
	br.media.Store(true)
}

func (br *bridge) stopMediaLocked() {
	if br.stopMedia != nil {
		br.stopMedia()
		br.stopMedia = nil
	}
	br.media.Store(false)
}

// closeMedia ends the bridge's media: hold music and the port bridge.
func (br *bridge) closeMedia() {
	br.mu.Lock()
	defer br.mu.Unlock()
	br.closed = true
	for l, m := range br.music {
		m.cancel()
		<-m.done
		delete(br.music, l)
	}
	br.stopMediaLocked()
}

// hold plays held's hold music to the other side (on) or gives it the bridge back (off).
func (br *bridge) hold(held *Session, on bool) {
	listener := br.other(held)
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.closed {
		return
	}
	if !on {
		m := br.music[listener]
		if m == nil {
			return
		}
		delete(br.music, listener)
		m.cancel()
		<-m.done
		if len(br.music) == 0 && br.stopMedia == nil {
			br.startMediaLocked()
		}
		return
	}
	if br.music[listener] != nil {
		return
	}
	file := held.HoldMusic()
	fp := filePlayer.Load()
	if strings.EqualFold(file, "silence") || fp == nil {
		return
	}
	st := listener.Media()
	if st == nil {
		return
	}
	// The relay (or frame copy) from the held side stops: its audio is replaced by the music.
	br.stopMediaLocked()
	ctx, cancel := context.WithCancel(listener.ctx)
	m := &holdPlay{cancel: cancel, done: make(chan struct{})}
	if br.music == nil {
		br.music = map[*Session]*holdPlay{}
	}
	br.music[listener] = m
	held.log.Info("hold music", "to", listener.Name(), "music", file)
	go func() {
		defer close(m.done)
		for ctx.Err() == nil { // FreeSWITCH broadcasts it with SMF_LOOP
			if err := (*fp)(ctx, listener, st, file); err != nil {
				if ctx.Err() == nil {
					held.log.Warn("hold music failed", "music", file, "err", err)
				}
				return
			}
		}
	}()
}
