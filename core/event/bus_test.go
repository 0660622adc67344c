package event

import (
	"sync"
	"testing"
	"time"
)

func TestNewHasCoreHeadersInOrder(t *testing.T) {
	b := NewBus(Identity{CoreUUID: "c-1", Hostname: "h", Switchname: "sw", IPv4: "10.0.0.1"})
	e := b.New(Custom, "sofia::register")
	want := []string{"Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname",
		"FreeSWITCH-IPv4", "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp",
		"Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number", "Event-Sequence", "Event-Subclass"}
	if len(e.Headers) != len(want) {
		t.Fatalf("headers %v", e.Headers)
	}
	for i, h := range e.Headers {
		if h.Name != want[i] {
			t.Errorf("header %d = %s, want %s", i, h.Name, want[i])
		}
	}
	if e.Get("event-subclass") != "sofia::register" || e.Get("Core-UUID") != "c-1" {
		t.Errorf("lookup failed: %v", e.Headers)
	}
	if e.Get("Event-Calling-File") != "bus_test.go" {
		t.Errorf("calling file %q", e.Get("Event-Calling-File"))
	}
	e2 := b.New(Heartbeat, "")
	if e2.Seq != e.Seq+1 {
		t.Errorf("sequence %d after %d", e2.Seq, e.Seq)
	}
}

func TestPublishNeverBlocksAndCountsDrops(t *testing.T) {
	b := NewBus(Identity{})
	slow := b.Subscribe(nil, 2)
	defer slow.Close()
	fast := b.Subscribe(func(e *Event) bool { return e.Name == DTMF }, 100)
	defer fast.Close()
	done := make(chan struct{})
	go func() {
		for i := 0; i < 50; i++ {
			b.Publish(b.New(DTMF, ""))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked on a full subscriber")
	}
	if slow.Len() != 2 || slow.Dropped() != 48 {
		t.Errorf("slow subscriber: len %d dropped %d", slow.Len(), slow.Dropped())
	}
	if fast.Len() != 50 || fast.Dropped() != 0 {
		t.Errorf("fast subscriber: len %d dropped %d", fast.Len(), fast.Dropped())
	}
	b.Publish(b.New(Heartbeat, ""))
	if fast.Len() != 50 {
		t.Error("filter let a non-matching event through")
	}
}

func TestCloseStopsDelivery(t *testing.T) {
	b := NewBus(Identity{})
	s := b.Subscribe(nil, 10)
	s.Close()
	s.Close() // idempotent
	b.Publish(b.New(Heartbeat, ""))
	if s.Len() != 0 || b.Subscribers() != 0 {
		t.Fatalf("closed subscription got events (len %d, subs %d)", s.Len(), b.Subscribers())
	}
}

func TestConcurrentSubscribePublish(t *testing.T) {
	b := NewBus(Identity{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				s := b.Subscribe(nil, 4)
				s.Close()
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Publish(b.New(Heartbeat, ""))
			}
		}()
	}
	wg.Wait()
}

func TestHeadersEditing(t *testing.T) {
	e := &Event{}
	e.Add("A", "1")
	e.Add("B", "2")
	e.Add("a", "3")
	e.Set("b", "20")
	if e.Get("B") != "20" || e.Get("A") != "1" {
		t.Fatalf("%v", e.Headers)
	}
	e.Del("A")
	if len(e.Headers) != 1 || e.Headers[0].Name != "B" {
		t.Fatalf("after Del: %v", e.Headers)
	}
	c := e.Clone()
	c.Set("B", "x")
	if e.Get("B") != "20" {
		t.Fatal("Clone shares headers")
	}
}

func BenchmarkPublish(b *testing.B) {
	bus := NewBus(Identity{})
	s := bus.Subscribe(nil, 1024)
	defer s.Close()
	go func() {
		for range s.C() {
		}
	}()
	e := bus.New(ChannelState, "")
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(e)
	}
}

// A subscription that declares its names lets publishers skip every other event; one without
// (an event socket listener for all) wants everything again, until it closes.
func TestWantsFollowsInterest(t *testing.T) {
	b := NewBus(Identity{})
	if b.Wants(ChannelCreate) {
		t.Fatal("no subscriber, yet CHANNEL_CREATE is wanted")
	}
	named := b.SubscribeTo(Interest{Names: []string{Trap}}, nil, 4)
	defer named.Close()
	pres := b.SubscribeTo(Interest{Names: []string{ChannelCreate, PresenceIn}, PresenceOnly: true}, nil, 4)
	defer pres.Close()
	if !b.Wants(Trap) || b.Wants(ChannelAnswer) {
		t.Errorf("Wants(TRAP)=%v Wants(CHANNEL_ANSWER)=%v", b.Wants(Trap), b.Wants(ChannelAnswer))
	}
	if b.WantsChannel(ChannelCreate, false) || !b.WantsChannel(ChannelCreate, true) || !b.WantsChannel(PresenceIn, false) {
		t.Error("presence-only interest: a channel event is wanted only with a presence id")
	}
	// Publish honours the names too: the TRAP subscriber never sees a HEARTBEAT.
	b.Publish(b.New(Heartbeat, ""))
	b.Publish(b.New(Trap, ""))
	if named.Len() != 1 || pres.Len() != 0 {
		t.Errorf("queued: named %d presence %d", named.Len(), pres.Len())
	}
	all := b.Subscribe(nil, 4)
	if !b.WantsChannel(ChannelAnswer, false) {
		t.Error("a subscriber for every event does not make CHANNEL_ANSWER wanted")
	}
	all.Close()
	if b.WantsChannel(ChannelAnswer, false) {
		t.Error("CHANNEL_ANSWER still wanted after the catch-all subscriber closed")
	}
}
