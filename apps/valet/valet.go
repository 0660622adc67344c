// Package valet is FreeSWITCH's mod_valet_parking: valet_park <lot> <slot> parks the caller in a
// slot of a lot, where it hears hold music, unless the slot is taken, in which case the caller
// retrieves the parked call and is bridged to it. `valet_park <lot> auto in <min> <max>` parks in
// the first free slot of the range (and says its number), `auto out` retrieves the first parked
// call, `ask <min> <max> <timeout> <prompt>` collects the slot number first. valet_info lists the
// lots.
package valet

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

const moduleName = "mod_valet_parking"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: newLots})
	core.RegisterApp(core.AppInfo{Name: "valet_park", Module: moduleName,
		Syntax: "<lotname> <extension>|[ask [<min>] [<max>] [<to>] [<prompt>]|auto in|out [min] [max]]",
		Short:  "valet_park", App: core.AppFunc(valetPark)})
	core.RegisterAPI(core.APIInfo{Name: "valet_info", Module: moduleName, Syntax: "[<lot name>]",
		Short: "Valet Parking Info", Fn: apiInfo})
}

// lots is one Host's parking lots: lot name -> slot -> parked channel.
type lots struct {
	mu   sync.Mutex
	lots map[string]map[string]*core.Session
}

func newLots(*core.Host) (any, error) {
	return &lots{lots: map[string]map[string]*core.Session{}}, nil
}

// lotsFor returns h's parking lots, nil when mod_valet_parking is not loaded (modules.conf.xml).
func lotsFor(h *core.Host) *lots {
	v, _ := h.Module(moduleName)
	l, _ := v.(*lots)
	return l
}

// claim parks s in lot/slot when free and reports true; otherwise it removes and returns the
// channel parked there (a live one) for retrieval.
func (l *lots) claim(lot, slot string, s *core.Session) (parked *core.Session, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.lots[lot]
	if m == nil {
		m = map[string]*core.Session{}
		l.lots[lot] = m
	}
	if p := m[slot]; p != nil && !p.HungUp() && p != s {
		delete(m, slot)
		return p, false
	}
	m[slot] = s
	return nil, true
}

func (l *lots) free(lot, slot string, s *core.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.lots[lot]; m != nil && m[slot] == s {
		delete(m, slot)
	}
}

// firstFree returns the first slot in [min,max] nobody is parked in; firstTaken the first one
// somebody is.
func (l *lots) scan(lot string, min, max int, taken bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.lots[lot]
	for i := min; i <= max; i++ {
		slot := strconv.Itoa(i)
		p := m[slot]
		busy := p != nil && !p.HungUp()
		if busy == taken {
			return slot
		}
	}
	return ""
}

func valetPark(ctx context.Context, s *core.Session, args string) error {
	f := strings.Fields(args)
	if len(f) < 2 {
		s.Log().Warn("Usage: valet_park <lotname> <extension>|[ask [<min>] [<max>] [<to>] [<prompt>]|auto in|out [min] [max]]")
		return nil
	}
	lot, slot := f[0], f[1]
	l := lotsFor(s.Host())
	if l == nil {
		return fmt.Errorf("valet_park: %s is not loaded", moduleName)
	}
	atoi := func(i, def int) int {
		if len(f) > i {
			if n, err := strconv.Atoi(f[i]); err == nil {
				return n
			}
		}
		return def
	}
	switch slot {
	case "ask":
		min, max, to := atoi(2, 1), atoi(3, 11), atoi(4, 10000)
		prompt := "ivr/ivr-enter_ext_pound.wav"
		if len(f) > 5 {
			prompt = f[5]
		}
		s.UnsetVar("valet_ask_extension")
		data := fmt.Sprintf("%d %d 1 %d # %s silence_stream://250 valet_ask_extension \\d+", min, max, to, prompt)
		if err := s.Execute(ctx, "play_and_get_digits", data); err != nil && ctx.Err() != nil {
			return nil
		}
		if slot = s.Var("valet_ask_extension"); slot == "" {
			s.Log().Info("valet_park: no extension entered")
			s.Hangup(core.CauseNormalClearing)
			return nil
		}
	case "auto":
		if len(f) < 5 {
			s.Log().Warn("Usage: valet_park <lotname> auto in|out <min> <max>")
			return nil
		}
		min, max := atoi(3, 0), atoi(4, 0)
		if f[2] == "out" {
			slot = l.scan(lot, min, max, true)
			if slot == "" {
				s.Log().Info("valet_park: nothing parked in " + lot)
				s.Hangup(core.CauseNormalClearing)
				return nil
			}
		} else {
			slot = l.scan(lot, min, max, false)
			if slot == "" {
				s.Log().Info("valet_park: lot " + lot + " is full")
				s.Hangup(core.CauseNormalClearing)
				return nil
			}
			if !s.Answered() {
				_ = s.Answer(ctx)
			}
			_ = s.Execute(ctx, "say", "en number pronounced "+slot)
		}
	}
	parked, ok := l.claim(lot, slot, s)
	if !ok {
		return retrieve(ctx, s, parked, lot, slot)
	}
	defer l.free(lot, slot, s)
	return hold(ctx, s, lot, slot)
}

// hold keeps s in the slot, hearing hold music, until it hangs up or is retrieved.
func hold(ctx context.Context, s *core.Session, lot, slot string) error {
	if !s.Answered() {
		if err := s.Answer(ctx); err != nil {
			return err
		}
	}
	s.SetVar("valet_lot_name", lot)
	s.SetVar("valet_lot_extension", slot)
	fire(s, "hold", lot, slot, nil)
	defer func() {
		if s.HungUp() {
			fire(s, "exit", lot, slot, nil)
		}
	}()
	music := s.Var("valet_hold_music")
	if music == "" {
		music = s.HoldMusic()
	}
	for ctx.Err() == nil && !s.HungUp() {
		if strings.EqualFold(music, "silence") {
			if !core.Sleep(ctx, time.Second) {
				break
			}
			continue
		}
		if err := s.Execute(ctx, "playback", music); err != nil && ctx.Err() == nil {
			if !core.Sleep(ctx, time.Second) {
				break
			}
		}
	}
	return nil
}

// retrieve takes the parked channel out of its music and bridges s to it.
func retrieve(ctx context.Context, s, parked *core.Session, lot, slot string) error {
	fire(parked, "bridge", lot, slot, s)
	s.SetVar("valet_lot_name", lot)
	s.SetVar("valet_lot_extension", slot)
	parked.Take()
	parked.Break()
	return dptools.BridgeTaken(ctx, s, parked)
}

func fire(s *core.Session, action, lot, slot string, by *core.Session) {
	e := s.NewEvent(event.Custom, "valet_parking::info")
	e.Add("Action", action)
	e.Add("Valet-Lot-Name", lot)
	e.Add("Valet-Extension", slot)
	if by != nil {
		e.Add("Bridge-To-UUID", by.UUID())
	}
	s.Host().Bus.Publish(e)
}

func apiInfo(_ context.Context, h *core.Host, args string, w io.Writer) error {
	l := lotsFor(h)
	if l == nil {
		_, err := io.WriteString(w, "-ERR "+moduleName+" is not loaded\n")
		return err
	}
	want := strings.TrimSpace(args)
	l.mu.Lock()
	names := make([]string, 0, len(l.lots))
	for n := range l.lots {
		if want == "" || n == want {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("<lots>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  <lot name=\"%s\">\n", n)
		slots := make([]string, 0, len(l.lots[n]))
		for k, p := range l.lots[n] {
			if !p.HungUp() {
				slots = append(slots, k)
			}
		}
		sort.Strings(slots)
		for _, k := range slots {
			fmt.Fprintf(&b, "    <extension uuid=\"%s\">%s</extension>\n", l.lots[n][k].UUID(), k)
		}
		b.WriteString("  </lot>\n")
	}
	b.WriteString("</lots>\n")
	l.mu.Unlock()
	_, err := io.WriteString(w, b.String())
	return err
}
