package event

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Identity is what every event says about the switch that fired it (FreeSWITCH's core headers).
type Identity struct {
	CoreUUID   string
	Hostname   string
	Switchname string
	IPv4       string
	IPv6       string
}

// Bus fans events out to subscribers. Publish never blocks: each subscriber has a bounded queue and
// counts what it had to drop, so one slow console can never stall a call.
type Bus struct {
	id   Identity
	seq  atomic.Uint64
	mu   sync.Mutex                      // serialises subscribe/unsubscribe
	subs atomic.Pointer[[]*Subscription] // copy-on-write list read by Publish
	now  func() time.Time

	interest atomic.Pointer[interestSet] // union of the subscriptions' interests, rebuilt with subs
}

// NewBus returns a bus whose events carry id's core headers.
func NewBus(id Identity) *Bus {
	b := &Bus{id: id, now: time.Now}
	empty := []*Subscription{}
	b.subs.Store(&empty)
	b.interest.Store(buildInterest(empty))
	return b
}

// Identity returns the switch identity stamped on events.
func (b *Bus) Identity() Identity { return b.id }

// New creates an event with FreeSWITCH's core headers in FreeSWITCH's order. The sequence number
// and date reflect creation, not delivery, as in FreeSWITCH.
func (b *Bus) New(name, subclass string) *Event {
	now := b.now()
	e := &Event{Name: name, Subclass: subclass, Seq: b.seq.Add(1), Time: now}
	e.Headers = make(Headers, 0, 96) // channel events carry ~80 headers before variables
	e.Add("Event-Name", name)
	e.Add("Core-UUID", b.id.CoreUUID)
	e.Add("FreeSWITCH-Hostname", b.id.Hostname)
	e.Add("FreeSWITCH-Switchname", b.id.Switchname)
	e.Add("FreeSWITCH-IPv4", b.id.IPv4)
	e.Add("FreeSWITCH-IPv6", b.id.IPv6)
	e.Add("Event-Date-Local", now.Format("2006-01-02 15:04:05"))
	e.Add("Event-Date-GMT", now.UTC().Format(time.RFC1123))
	e.Add("Event-Date-Timestamp", strconv.FormatInt(now.UnixMicro(), 10))
	file, fn, line := caller()
	e.Add("Event-Calling-File", file)
	e.Add("Event-Calling-Function", fn)
	e.Add("Event-Calling-Line-Number", strconv.Itoa(line))
	e.Add("Event-Sequence", strconv.FormatUint(e.Seq, 10))
	if name == Custom && subclass != "" {
		e.Add("Event-Subclass", subclass)
	}
	return e
}

// caller names the code that called Bus.New. Resolving a PC to file and function is slow, so
// the result is cached per PC (the set of call sites is small and fixed).
func caller() (file, fn string, line int) {
	var pcs [1]uintptr
	if runtime.Callers(3, pcs[:]) == 0 {
		return "", "", 0
	}
	if v, ok := callSites.Load(pcs[0]); ok {
		cs := v.(callSite)
		return cs.file, cs.fn, cs.line
	}
	frame, _ := runtime.CallersFrames(pcs[:]).Next()
	cs := callSite{file: frame.File, fn: frame.Function, line: frame.Line}
	if i := strings.LastIndexByte(cs.file, '/'); i >= 0 {
		cs.file = cs.file[i+1:]
	}
	if i := strings.LastIndexByte(cs.fn, '.'); i >= 0 {
		cs.fn = cs.fn[i+1:]
	}
	callSites.Store(pcs[0], cs)
	return cs.file, cs.fn, cs.line
}

type callSite struct {
	file, fn string
	line     int
}

// callSites caches resolved call sites: read-mostly, shared by every bus (it holds no config).
var callSites sync.Map

// Publish delivers e to every matching subscriber without blocking. Subscribers share e: they must
// treat it as read-only (Clone to modify).
func (b *Bus) Publish(e *Event) {
	for _, s := range *b.subs.Load() {
		if s.closed.Load() || !s.wants(e.Name) || (s.match != nil && !s.match(e)) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribe returns a subscription receiving events for which match returns true (all events when
// match is nil), buffering at most queue events.
func (b *Bus) Subscribe(match func(*Event) bool, queue int) *Subscription {
	s := b.newSubscription(match, queue)
	b.add(s)
	return s
}

func (b *Bus) newSubscription(match func(*Event) bool, queue int) *Subscription {
	if queue <= 0 {
		queue = 1
	}
	return &Subscription{bus: b, match: match, ch: make(chan *Event, queue)}
}

func (b *Bus) add(s *Subscription) {
	b.mu.Lock()
	old := *b.subs.Load()
	next := make([]*Subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	b.subs.Store(&next)
	b.interest.Store(buildInterest(next))
	b.mu.Unlock()
}

// Subscribers returns how many subscriptions are open.
func (b *Bus) Subscribers() int { return len(*b.subs.Load()) }

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.subs.Load()
	next := make([]*Subscription, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	b.subs.Store(&next)
	b.interest.Store(buildInterest(next))
}

// Subscription is one observer's bounded queue.
type Subscription struct {
	bus     *Bus
	match   func(*Event) bool
	filter  atomic.Pointer[filter] // SubscribeTo's interest; nil: every event
	ch      chan *Event
	dropped atomic.Uint64
	closed  atomic.Bool
	once    sync.Once
}

func (s *Subscription) wants(name string) bool {
	f := s.filter.Load()
	return f == nil || f.names[name]
}

// C returns the channel events arrive on. It is never closed; stop reading after Close.
func (s *Subscription) C() <-chan *Event { return s.ch }

// Dropped returns how many events did not fit in the queue.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Len returns how many events wait in the queue.
func (s *Subscription) Len() int { return len(s.ch) }

// Close stops delivery. Safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		s.bus.remove(s)
	})
}
