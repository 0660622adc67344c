package esl

import (
	"regexp"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// selection is what a connection listens to. It is replaced, never modified, so the bus can read
// it from publishing goroutines without locks.
type selection struct {
	active  bool
	format  string
	all     bool
	names   map[string]bool
	subs    map[string]bool
	filters []filter
	myUUID  string
}

type filter struct {
	header, value string
	re            *regexp.Regexp // for /regex/ values
}

func newFilter(header, value string) filter {
	f := filter{header: header, value: value}
	v := strings.TrimLeft(value, "+- ")
	if len(v) > 1 && v[0] == '/' {
		if re, err := regexp.Compile(strings.TrimSuffix(v[1:], "/")); err == nil {
			f.re = re
		}
	}
	return f
}

func (sel *selection) clone() *selection {
	n := &selection{format: "plain", names: map[string]bool{}, subs: map[string]bool{}}
	if sel == nil {
		return n
	}
	n.active, n.format, n.all, n.myUUID = sel.active, sel.format, sel.all, sel.myUUID
	for k := range sel.names {
		n.names[k] = true
	}
	for k := range sel.subs {
		n.subs[k] = true
	}
	n.filters = append([]filter(nil), sel.filters...)
	return n
}

// match is called by Bus.Publish on the publisher's goroutine.
func (c *conn) match(e *event.Event) bool {
	sel := c.sel.Load()
	if sel == nil || !sel.active {
		return false
	}
	if sel.myUUID != "" {
		if id := e.Get("Unique-ID"); id != "" && id != sel.myUUID {
			if e.Get("Job-Owner-UUID") != sel.myUUID {
				return false
			}
		}
	}
	send := sel.all
	if !send && sel.names[e.Name] {
		send = e.Name != event.Custom || e.Subclass == "" || sel.subs[e.Subclass]
	}
	if !send {
		return false
	}
	if c.allowedEvents != nil && !c.allowedEvents["all"] && !c.allowedEvents[e.Name] {
		return false
	}
	if len(sel.filters) > 0 {
		return filtersPass(sel.filters, e)
	}
	return true
}

// filtersPass is mod_event_socket's filter rule: with filters present an event is sent when a
// positive filter matches and no negative (-) filter matches. Values are compared
// case-insensitively; /regex/ values are regular expressions.
func filtersPass(fs []filter, e *event.Event) bool {
	send := false
	for _, f := range fs {
		hv, ok := e.Headers.Lookup(f.header)
		if !ok {
			continue
		}
		pos := true
		v := f.value
		for v != "" {
			if v[0] == '+' {
				pos = true
			} else if v[0] == '-' {
				pos = false
			} else if v[0] != ' ' {
				break
			}
			v = v[1:]
		}
		if send && pos {
			continue
		}
		var hit bool
		if f.re != nil {
			hit = f.re.MatchString(hv)
		} else {
			hit = strings.EqualFold(hv, v)
		}
		if hit {
			if !pos {
				return false
			}
			send = true
		}
	}
	return send
}

// ensureSub creates the connection's bus subscription and its pump on first use.
func (c *conn) ensureSub() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sub != nil {
		return
	}
	c.sub = c.srv.h.Bus.SubscribeTo(c.sel.Load().interest(), c.match, c.srv.cfg.QueueSize)
	sub := c.sub
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.pumpEvents(sub)
	}()
}

// pumpEvents writes queued events. Events already waiting are written in one batch with one
// flush, so a busy listener costs one write(2) per batch rather than per event.
func (c *conn) pumpEvents(sub *event.Subscription) {
	var frame, scratch []byte
	var warned uint64
	for {
		select {
		case <-c.done:
			return
		case e := <-sub.C():
			sel := c.sel.Load()
			format := "plain"
			if sel != nil {
				format = sel.format
			}
			frame, scratch = appendEventFrame(frame[:0], format, e, scratch)
			for n := 1; n < 256 && len(frame) < 256<<10; n++ {
				select {
				case e = <-sub.C():
					frame, scratch = appendEventFrame(frame, format, e, scratch)
					continue
				default:
				}
				break
			}
			if c.write(frame) != nil {
				_ = c.nc.Close()
				return
			}
			if d := sub.Dropped(); d > warned {
				c.srv.h.Log.Warn("event socket: listener is too slow, events lost", "listener", c.id, "dropped", d)
				warned = d * 2
			}
		}
	}
}

func (c *conn) update(fn func(sel *selection)) {
	c.mu.Lock()
	n := c.sel.Load().clone()
	fn(n)
	c.sel.Store(n)
	if c.sub != nil {
		c.sub.SetInterest(n.interest())
	}
	c.mu.Unlock()
}

// interest is what the bus may skip building for this listener: events it did not ask for.
func (sel *selection) interest() event.Interest {
	switch {
	case sel == nil || !sel.active:
		return event.Interest{None: true}
	case sel.all:
		return event.Interest{}
	}
	names := make([]string, 0, len(sel.names))
	for n := range sel.names {
		names = append(names, n)
	}
	if len(names) == 0 {
		return event.Interest{None: true}
	}
	return event.Interest{Names: names}
}

// eventName is switch_name_event: case-insensitive, with or without the SWITCH_EVENT_ prefix.
func eventName(w string) (string, bool) {
	u := strings.ToUpper(w)
	u = strings.TrimPrefix(u, "SWITCH_EVENT_")
	return u, event.IsName(u)
}

func (c *conn) event(args string) bool {
	words := strings.Fields(args)
	format := ""
	if len(words) > 0 {
		switch strings.ToLower(words[0]) {
		case "plain", "json", "xml":
			format = strings.ToLower(words[0])
			words = words[1:]
		}
	}
	keys := 0
	c.update(func(sel *selection) {
		if format != "" {
			sel.format = format
		}
		keys = eventWords(words, func(name string) {
			if name == event.All {
				sel.all = true
				return
			}
			sel.names[name] = true
		}, func(sub string) { sel.subs[sub] = true })
		if keys > 0 {
			sel.active = true
		}
	})
	if keys == 0 {
		return c.reply("-ERR no keywords supplied") == nil
	}
	c.ensureSub()
	return c.reply("+OK event listener enabled "+c.sel.Load().format) == nil
}

// eventWords walks the words of `event` and `nixevent`: each known event name goes to name, and
// every word after CUSTOM is a subclass for sub. It returns how many event names it saw.
func eventWords(words []string, name, sub func(string)) int {
	keys := 0
	custom := false
	for _, w := range words {
		if custom {
			sub(w)
			continue
		}
		n, ok := eventName(w)
		if !ok {
			continue
		}
		keys++
		custom = n == event.Custom
		name(n)
	}
	return keys
}

func (c *conn) nixevent(args string) bool {
	words := strings.Fields(args)
	keys := 0
	c.update(func(sel *selection) {
		keys = eventWords(words, func(name string) {
			switch name {
			case event.All:
				sel.all = false
				sel.names = map[string]bool{}
				sel.subs = map[string]bool{}
				return
			case event.Custom:
				return
			}
			delete(sel.names, name)
			if sel.all { // nixing one event out of ALL keeps the others
				sel.all = false
				for _, n := range event.Names {
					if n != event.All && n != name {
						sel.names[n] = true
					}
				}
			}
		}, func(sub string) { delete(sel.subs, sub) })
	})
	if keys == 0 {
		return c.reply("-ERR no keywords supplied") == nil
	}
	return c.reply("+OK events nixed") == nil
}

func (c *conn) noevents() bool {
	sel := c.sel.Load()
	if sel == nil || !sel.active {
		return c.reply("-ERR not listening for events") == nil
	}
	c.update(func(sel *selection) {
		sel.active, sel.all = false, false
		sel.names, sel.subs = map[string]bool{}, map[string]bool{}
		sel.myUUID = ""
	})
	return c.reply("+OK no longer listening for events") == nil
}

func (c *conn) filter(args string) bool {
	name, val, hasVal := strings.Cut(args, " ")
	val = strings.TrimSpace(val)
	hasVal = hasVal && val != ""
	if strings.EqualFold(name, "delete") && hasVal {
		name, val, hasVal = strings.Cut(val, " ")
		c.update(func(sel *selection) {
			if strings.EqualFold(name, "all") {
				sel.filters = nil
				return
			}
			out := sel.filters[:0]
			for _, f := range sel.filters {
				if strings.EqualFold(f.header, name) && (!hasVal || f.value == val) {
					continue
				}
				out = append(out, f)
			}
			sel.filters = out
		})
		return c.reply("+OK filter deleted. ["+name+"]=["+val+"]") == nil
	}
	if !hasVal {
		return c.reply("-ERR invalid syntax") == nil
	}
	if strings.EqualFold(name, "add") {
		name, val, _ = strings.Cut(val, " ")
	}
	c.update(func(sel *selection) { sel.filters = append(sel.filters, newFilter(name, val)) })
	return c.reply("+OK filter added. ["+name+"]=["+val+"]") == nil
}

func (c *conn) myevents(args string) bool {
	if sel := c.sel.Load(); sel != nil && sel.myUUID != "" {
		return c.reply("-ERR aready enabled.") == nil // sic, FreeSWITCH's text
	}
	words := strings.Fields(args)
	format := ""
	target := ""
	for _, w := range words {
		switch strings.ToLower(w) {
		case "plain", "json", "xml":
			format = strings.ToLower(w)
		default:
			target = w
		}
	}
	var s *core.Session
	if target != "" {
		var ok bool
		if s, ok = c.srv.h.Session(target); !ok {
			return c.reply("-ERR invalid uuid") == nil
		}
	} else if c.session != nil {
		s = c.session
	} else {
		return c.reply("-ERR invalid uuid") == nil
	}
	c.update(func(sel *selection) {
		if format != "" {
			sel.format = format
		}
		sel.active = true
		sel.myUUID = s.UUID()
		for _, n := range myEventNames {
			sel.names[n] = true
		}
	})
	c.ensureSub()
	return c.reply("+OK Events Enabled") == nil
}

// myEventNames are the events `myevents` subscribes to (mod_event_socket).
var myEventNames = []string{
	event.ChannelAnswer, event.ChannelApplication, event.ChannelBridge, event.ChannelCreate,
	event.ChannelData, event.ChannelDestroy, event.ChannelExecute, event.ChannelExecuteComplete,
	event.ChannelHangup, event.ChannelHangupComplete, event.ChannelOriginate, event.ChannelPark,
	event.ChannelProgress, event.ChannelProgressMedia, event.ChannelState, event.ChannelUnbridge,
	event.ChannelUnpark, event.ChannelCallstate, event.ChannelHold, event.ChannelUnhold,
	event.DetectedSpeech, event.DTMF, event.Notalk, event.Talk, event.PlaybackStart,
	event.PlaybackStop, event.RecordStart, event.RecordStop, event.BackgroundJob,
}
