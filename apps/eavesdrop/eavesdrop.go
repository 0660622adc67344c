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
	if !ok || t == s || t.HungUp() || t.Media() == nil || !groupAllows(s, t) {
		indicate(ctx, s, "eavesdrop_indicate_failed")
		s.Log().Info("eavesdrop: no channel " + args)
		return nil
	}
	spy(ctx, s, t)
	return nil
}

// eavesdropAll listens to every answered call in turn: * moves on, and when none is left the
// idle indication plays and the search starts again.
func eavesdropAll(ctx context.Context, s *core.Session) error {
	for ctx.Err() == nil {
		seen := map[*core.Session]bool{}
		found := false
		for _, t := range s.Host().Sessions() {
			if t == s || seen[t] || t.HungUp() || !t.Answered() || t.Media() == nil || t.Var("eavesdrop_target") != "" || !groupAllows(s, t) {
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
			if stop := spy(ctx, s, t); stop {
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

// groupAllows applies the listener's eavesdrop_require_group: when it is set, only a channel
// whose eavesdrop_group (a comma-separated list) names that group may be listened to.
func groupAllows(s, t *core.Session) bool {
	want := s.Var("eavesdrop_require_group")
	if want == "" {
		return true
	}
	for _, g := range strings.Split(t.Var("eavesdrop_group"), ",") {
		if strings.TrimSpace(g) == want {
			return true
		}
	}
	return false
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

// spy listens to t's call and, when s presses 1, 2 or 3 while t is bridged, joins it three-way.
// It reports whether s is gone or must stop altogether.
func spy(ctx context.Context, s, t *core.Session) (stop bool) {
	stop, talk := listen(ctx, s, t)
	if talk == modeListen {
		return stop
	}
	p := t.Peer()
	if p == nil {
		return false
	}
	return threeWay(ctx, s, t, p, talk)
}

// listen plays t's call to s until t hangs up, ctx ends, s presses * (next) or # (stop), or s
// asks to talk (1, 2, 3) while t is bridged: talk then says how.
func listen(ctx context.Context, s, t *core.Session) (stop bool, talk int) {
	st, out := t.Media(), s.Media()
	if st == nil || out == nil {
		return false, modeListen
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
			return true, modeListen
		case <-t.Done():
			return false, modeListen
		case d := <-s.DTMF():
			switch d.Digit {
			case '*':
				return false, modeListen
			case '#':
				return true, modeListen
			case '0', '1', '2', '3':
				mode = int(d.Digit - '0')
				s.Log().Info("eavesdrop mode", "mode", modeName(mode))
				s.SetVar("eavesdrop_mode", modeName(mode))
				if mode != modeListen && t.Peer() != nil {
					return false, mode
				}
			}
		case pcm := <-b.frames:
			b.mu.Lock()
			rate := b.rate
			b.mu.Unlock()
			fr = media.Frame{PCM: pcm, Rate: rate}
			if err := out.WriteFrame(ctx, &fr); err != nil {
				return true, modeListen
			}
		}
	}
}

// threeWay takes t and its partner p out of their bridge (both park, core.Session.Take) and mixes
// the three channels itself: s hears both; t hears p, and s in modes 2 and 3; p hears t, and s in
// modes 1 and 3 (FreeSWITCH's ED_MUX_WRITE / ED_MUX_READ). DTMF keeps switching modes; when s
// leaves (* or # or hangup) t and p are bridged again; when t or p hangs up the other follows.
func threeWay(ctx context.Context, s, t, p *core.Session, mode int) (stop bool) {
	ss, ts, ps := s.Media(), t.Media(), p.Media()
	if ss == nil || ts == nil || ps == nil || ts.Rate() != ps.Rate() {
		s.Log().Info("eavesdrop: cannot talk into this call")
		return false
	}
	t.Take()
	p.Take()
	t.LeaveBridge()
	t.Break()
	p.Break()
	// Both park once their bridge has ended and its media relay or frame copy has stopped.
	for i := 0; i < 150 && (t.State() != core.StatePark || p.State() != core.StatePark); i++ {
		if !core.Sleep(ctx, 20*time.Millisecond) {
			break
		}
	}
	rate := ts.Rate()
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	reader := func(st media.Stream) <-chan []int16 {
		ch := make(chan []int16, 3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var f media.Frame
			for st.ReadFrame(rctx, &f) == nil {
				pcm := append([]int16(nil), f.PCM...)
				select {
				case ch <- pcm:
				default: // the mixer is behind: drop the frame
				}
			}
		}()
		return ch
	}
	fromS, fromT, fromP := reader(ss), reader(ts), reader(ps)
	latest := func(ch <-chan []int16) []int16 {
		select {
		case pcm := <-ch:
			return pcm
		default:
			return nil
		}
	}
	write := func(st media.Stream, parts ...[]int16) error {
		n := rate / 50
		out := make([]int16, n)
		for _, part := range parts {
			for i := 0; i < n && i < len(part); i++ {
				out[i] = int16(max(-32768, min(32767, int32(out[i])+int32(part[i]))))
			}
		}
		return st.WriteFrame(rctx, &media.Frame{PCM: out, Rate: rate})
	}
	s.SetVar("eavesdrop_mode", modeName(mode))
	end := func() {
		cancel()
		wg.Wait()
	}
	for {
		select {
		case <-ctx.Done():
			end()
			rejoin(s, t, p)
			return true
		case <-t.Done():
			end()
			p.Hangup(t.HangupCause())
			return false
		case <-p.Done():
			end()
			t.Hangup(p.HangupCause())
			return false
		case d := <-s.DTMF():
			switch d.Digit {
			case '*', '#':
				end()
				rejoin(s, t, p)
				return d.Digit == '#'
			case '0', '1', '2', '3':
				mode = int(d.Digit - '0')
				s.Log().Info("eavesdrop mode", "mode", modeName(mode))
				s.SetVar("eavesdrop_mode", modeName(mode))
			}
		case spk := <-fromS: // the eavesdropper's frames pace the mix
			tv, pv := latest(fromT), latest(fromP)
			var toT, toP []int16
			if mode == modeTalkTarget || mode == modeTalkBoth {
				toT = spk
			}
			if mode == modeTalkPartner || mode == modeTalkBoth {
				toP = spk
			}
			_ = write(ts, pv, toT)
			_ = write(ps, tv, toP)
			_ = write(ss, tv, pv)
		}
	}
}

// rejoin bridges the two parties again once the eavesdropper has left.
func rejoin(s, t, p *core.Session) {
	if t.HungUp() || p.HungUp() {
		return
	}
	if err := s.Host().UUIDBridge(t, p); err != nil {
		s.Log().Info("eavesdrop: could not bridge the parties again: " + err.Error())
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
