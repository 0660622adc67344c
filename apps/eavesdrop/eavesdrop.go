// Package eavesdrop is FreeSWITCH's eavesdrop application (switch_ivr_eavesdrop_session): the
// caller listens to another channel's call, hearing both parties mixed, through a media bug on
// the target channel. `eavesdrop all` walks every call in turn. DTMF while listening: 0 listen
// only, 1 talk to the target's partner, 2 talk to the target, 3 talk to both, * next channel (or
// stop), as FreeSWITCH's keys; see talk for what the talk modes do today.
package eavesdrop

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func init() {
	core.RegisterApp(core.AppInfo{Name: "eavesdrop", Module: "mod_dptools", Syntax: "[all | <uuid>]",
		Short: "eavesdrop on a uuid", App: core.AppFunc(eavesdrop)})
}

// Listen modes selected by DTMF (FreeSWITCH's ED_MUX_READ / ED_MUX_WRITE flags).
const (
	modeListen = iota
	modeTalkPartner
	modeTalkTarget
	modeTalkBoth
)

func eavesdrop(ctx context.Context, s *core.Session, args string) error {
	args = strings.TrimSpace(args)
	if !s.Answered() {
		if err := s.Answer(ctx); err != nil {
			return err
		}
	}
	if args == "" {
		s.Log().Warn("eavesdrop: no uuid")
		return nil
	}
	if strings.EqualFold(args, "all") {
		return eavesdropAll(ctx, s)
	}
	t, ok := s.Host().Session(args)
	if !ok || t == s || t.HungUp() || t.Media() == nil {
		indicate(ctx, s, "eavesdrop_indicate_failed")
		s.Log().Info("eavesdrop: no channel " + args)
		return nil
	}
	listen(ctx, s, t)
	return nil
}

// eavesdropAll listens to every answered call in turn: * moves on, and when none is left the
// idle indication plays and the search starts again.
func eavesdropAll(ctx context.Context, s *core.Session) error {
	for ctx.Err() == nil {
		seen := map[*core.Session]bool{}
		found := false
		for _, t := range s.Host().Sessions() {
			if t == s || seen[t] || t.HungUp() || !t.Answered() || t.Media() == nil || t.Var("eavesdrop_target") != "" {
				continue
			}
			if p := t.Peer(); p != nil {
				if seen[p] || p == s {
					continue
				}
				seen[p] = true
			}
			seen[t] = true
			found = true
			indicate(ctx, s, "eavesdrop_indicate_new")
			if stop := listen(ctx, s, t); stop {
				return nil
			}
		}
		if !found {
			indicate(ctx, s, "eavesdrop_indicate_idle")
			if !core.Sleep(ctx, time.Second) {
				return nil
			}
		}
	}
	return nil
}

func indicate(ctx context.Context, s *core.Session, name string) {
	if v := s.Var(name); v != "" {
		_ = s.Execute(ctx, "playback", v)
	}
}

// bug is the media bug on the target: what the target's far end says (read) and what is sent to
// it (write, the partner's voice) are mixed into frames for the listener.
type bug struct {
	mu      sync.Mutex
	pendW   []int16
	rate    int
	frames  chan []int16
	dropped int
}

func (b *bug) OnFrame(dir media.Dir, f *media.Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate = f.Rate
	if dir == media.DirWrite {
		b.pendW = append(b.pendW, f.PCM...)
		if over := len(b.pendW) - 4*len(f.PCM); over > 0 {
			b.pendW = append(b.pendW[:0], b.pendW[over:]...)
		}
		return
	}
	out := make([]int16, len(f.PCM))
	for i, v := range f.PCM {
		acc := int32(v)
		if i < len(b.pendW) {
			acc += int32(b.pendW[i])
		}
		out[i] = int16(max(-32768, min(32767, acc)))
	}
	k := min(len(f.PCM), len(b.pendW))
	b.pendW = append(b.pendW[:0], b.pendW[k:]...)
	select {
	case b.frames <- out:
	default:
		b.dropped++
	}
}

// listen plays t's call to s until t hangs up, ctx ends or s presses * (next) . It reports
// whether s is gone or must stop altogether.
func listen(ctx context.Context, s, t *core.Session) (stop bool) {
	st, out := t.Media(), s.Media()
	if st == nil || out == nil {
		return false
	}
	b := &bug{frames: make(chan []int16, 10), rate: st.Rate()}
	remove := st.AddTap(b)
	defer remove()
	s.SetVar("eavesdrop_target", t.UUID())
	defer s.UnsetVar("eavesdrop_target")
	t.SetVar("eavesdropped_by", s.UUID())
	s.Log().Info("eavesdropping", "target", t.Name())
	mode := modeListen

	// The listener's own audio is read so its receive queue keeps moving (and, in the talk modes,
	// would be handed to talk).
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var f media.Frame
		for out.ReadFrame(lctx, &f) == nil {
		}
	}()
	defer wg.Wait()
	defer cancel()

	var fr media.Frame
	for {
		select {
		case <-ctx.Done():
			return true
		case <-t.Done():
			return false
		case d := <-s.DTMF():
			switch d.Digit {
			case '*':
				return false
			case '#':
				return true
			case '0', '1', '2', '3':
				mode = int(d.Digit - '0')
				s.Log().Info("eavesdrop mode", "mode", modeName(mode))
				s.SetVar("eavesdrop_mode", modeName(mode))
			}
		case pcm := <-b.frames:
			b.mu.Lock()
			rate := b.rate
			b.mu.Unlock()
			fr = media.Frame{PCM: pcm, Rate: rate}
			if err := out.WriteFrame(ctx, &fr); err != nil {
				return true
			}
		}
	}
}

func modeName(m int) string {
	switch m {
	case modeTalkPartner:
		return "talk-partner"
	case modeTalkTarget:
		return "talk-target"
	case modeTalkBoth:
		return "talk-both"
	}
	return "listen"
}
