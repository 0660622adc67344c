package event

import "strings"

// Interest declares which events a subscription can match, so that publishers can skip building
// an event nobody would take: a call fires a dozen CHANNEL_* events with ~150 headers each, and
// at hundreds of calls per second building them for a bus whose only listeners wait for
// SHUTDOWN_REQUESTED or a HUP trap is most of a call's allocations.
type Interest struct {
	// Names are the event names the subscription can match. Empty means every event.
	Names []string
	// PresenceOnly narrows the CHANNEL_* names in Names to channels that have a presence id (the
	// presence engine turns those into PRESENCE_IN; other channels cannot change a BLF).
	PresenceOnly bool
	// None: no event for now (an event socket listener that is not listening yet).
	None bool
}

// filter is a subscription's interest as Publish reads it; a nil names map matches every event.
type filter struct {
	names        map[string]bool
	presenceOnly bool
}

// interestSet is the union of every open subscription's interest, rebuilt on subscribe and
// close and read by publishers without locks.
type interestSet struct {
	all      bool
	names    map[string]bool // wanted for every channel
	presence map[string]bool // wanted only for channels with a presence id
}

func (in Interest) filter() *filter {
	if in.None {
		return &filter{names: map[string]bool{}}
	}
	if len(in.Names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(in.Names))
	for _, n := range in.Names {
		m[n] = true
	}
	return &filter{names: m, presenceOnly: in.PresenceOnly}
}

func buildInterest(subs []*Subscription) *interestSet {
	set := &interestSet{names: map[string]bool{}, presence: map[string]bool{}}
	for _, s := range subs {
		f := s.filter.Load()
		if f == nil {
			set.all = true
			continue
		}
		for n := range f.names {
			if f.presenceOnly && strings.HasPrefix(n, "CHANNEL_") {
				set.presence[n] = true
			} else {
				set.names[n] = true
			}
		}
	}
	return set
}

// Wants reports whether some subscriber could match an event named name. Publishers of costly
// events ask first and build nothing when nobody could take it.
func (b *Bus) Wants(name string) bool {
	set := b.interest.Load()
	return set.all || set.names[name] || set.presence[name]
}

// WantsChannel is Wants for a channel event, knowing whether the channel has a presence id.
func (b *Bus) WantsChannel(name string, hasPresence bool) bool {
	set := b.interest.Load()
	return set.all || set.names[name] || (hasPresence && set.presence[name])
}

// SubscribeTo is Subscribe for the events in, which also lets publishers skip the others.
func (b *Bus) SubscribeTo(in Interest, match func(*Event) bool, queue int) *Subscription {
	s := b.newSubscription(match, queue)
	s.filter.Store(in.filter())
	b.add(s)
	return s
}

// SetInterest replaces what the subscription declared (an event socket listener's `event` and
// `nixevent` change it while it runs).
func (s *Subscription) SetInterest(in Interest) {
	s.filter.Store(in.filter())
	b := s.bus
	b.mu.Lock()
	b.interest.Store(buildInterest(*b.subs.Load()))
	b.mu.Unlock()
}
