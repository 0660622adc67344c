package fifo_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/fifo"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
)

const music = "tone_stream://%(10000,0,440);loops=-1"

const conf = `<section name="dialplan"><context name="default">
  <extension name="orbit"><condition field="destination_number" expression="^orbit$">
    <action application="set" data="orbited=yes"/><action application="park"/></condition></extension>
  <extension name="member"><condition field="destination_number" expression="^member$">
    <action application="answer"/><action application="echo"/></condition></extension>
</context></section>
<section name="configuration"><configuration name="fifo.conf"><fifos>
  <fifo name="static_q" importance="2"/>
</fifos></configuration></section>`

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func api(t *testing.T, h *core.Host, cmd, args string) string {
	t.Helper()
	out, err := h.APIOutput(t.Context(), cmd, args)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServedInOrder: callers queue by priority (0 first) and then arrival; each "out nowait"
// takes the next one and the two hear each other; with nobody left "out nowait" goes on at once.
func TestServedInOrder(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Subclass == "fifo::info" }, 256)
	defer sub.Close()
	a, pa := playtest.NewCall(t, h, "a", [2]string{"fifo_music", music})
	b, _ := playtest.NewCall(t, h, "b", [2]string{"fifo_music", music}, [2]string{"fifo_priority", "3"})
	c, _ := playtest.NewCall(t, h, "c", [2]string{"fifo_music", music})
	for _, s := range []*core.Session{a, b, c} {
		playtest.Run(t, s, "fifo", "q in")
		want := s.Name()
		waitFor(t, want+" queued", func() bool { return strings.Contains(api(t, h, "fifo", "list q"), s.UUID()) })
	}
	if got := api(t, h, "fifo", "count q"); got != "q:0:3:0:0:0\n" {
		t.Errorf("fifo count q = %q", got)
	}
	waitFor(t, "a hears the music", func() bool { return playtest.Goertzel(pa.Heard(), 440, 8000) > 0.3 })
	// Priority 0 (a, c by arrival) before b's 3.
	for i, want := range []*core.Session{a, c, b} {
		cons, pc := playtest.NewCall(t, h, "consumer")
		playtest.Run(t, cons, "answer", "", "fifo", "q out nowait", "set", "after=1", "park", "")
		waitFor(t, "consumer bridged", func() bool { return cons.Peer() != nil })
		if cons.Peer() != want {
			t.Fatalf("consumer %d got %s, want %s", i, cons.Peer().Name(), want.Name())
		}
		if want.Var("fifo_serviced_uuid") != cons.UUID() || want.Var("fifo_status") != "TALKING" {
			t.Errorf("caller vars: serviced_uuid %q status %q", want.Var("fifo_serviced_uuid"), want.Var("fifo_status"))
		}
		if i == 0 {
			pa.Tone(500, 8000, 3*time.Second)
			m := pc.Mark()
			waitFor(t, "consumer hears the caller", func() bool { return playtest.Goertzel(pc.HeardSince(m), 500, 8000) > 0.3 })
		}
		want.Hangup(core.CauseNormalClearing)
		// the caller hung up: the consumer goes on with its dialplan
		waitFor(t, "consumer goes on", func() bool { return cons.Var("after") == "1" })
		cons.Hangup(core.CauseNormalClearing)
	}
	empty, _ := playtest.NewCall(t, h, "empty")
	playtest.Run(t, empty, "answer", "", "fifo", "q out nowait", "set", "went_on=yes", "park", "")
	waitFor(t, "nowait consumer goes on", func() bool { return empty.Var("went_on") == "yes" })
	actions := map[string]int{}
	for len(sub.C()) > 0 {
		actions[(<-sub.C()).Get("FIFO-Action")]++
	}
	if actions["push"] != 3 || actions["caller_pop"] != 3 || actions["consumer_pop"] != 3 {
		t.Errorf("fifo::info actions: %v", actions)
	}
}

// TestWaitingConsumer: an "out wait" consumer hears music until a caller arrives, talks to it, and
// after the caller hangs up waits for the next one; * ends its waiting.
func TestWaitingConsumer(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	cons, pc := playtest.NewCall(t, h, "agent")
	playtest.Run(t, cons, "fifo", "q1,q2 out wait undef "+music, "set", "agent_done=yes", "park", "")
	waitFor(t, "agent waiting", func() bool { return strings.Contains(api(t, h, "fifo", "count q2"), "q2:1:0") })
	waitFor(t, "agent hears music", func() bool { return playtest.Goertzel(pc.Heard(), 440, 8000) > 0.3 })
	for i, q := range []string{"q2", "q1"} {
		a, pa := playtest.NewCall(t, h, "caller"+q)
		playtest.Run(t, a, "fifo", q+" in")
		waitFor(t, "agent talks to caller", func() bool { return cons.Peer() == a })
		pa.Tone(700, 8000, 3*time.Second)
		m := pc.Mark()
		waitFor(t, "agent hears caller", func() bool { return playtest.Goertzel(pc.HeardSince(m), 700, 8000) > 0.3 })
		a.Hangup(core.CauseNormalClearing)
		playtest.Wait(t, a, 5*time.Second)
		waitFor(t, "agent waits again", func() bool { return cons.Peer() == nil && cons.Var("fifo_status") == "WAITING" })
		if cons.HungUp() {
			t.Fatalf("agent hung up after caller %d", i)
		}
	}
	pc.DTMF("*")
	waitFor(t, "agent leaves the queue", func() bool { return cons.Var("agent_done") == "yes" })
	if got := api(t, h, "fifo", "count q1"); got != "q1:0:0:0:0:0\n" {
		t.Errorf("after the agent left: %q", got)
	}
}

// TestCallerLeaves: fifo_caller_exit_key takes the caller out (its dialplan goes on), a hangup
// takes it out, fifo_orbit_exten transfers it after its timeout.
func TestCallerLeaves(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	a, pa := playtest.NewCall(t, h, "a", [2]string{"fifo_caller_exit_key", "#"})
	playtest.Run(t, a, "fifo", "q in undef "+music, "set", "left=yes", "park", "")
	waitFor(t, "a queued", func() bool { return strings.Contains(api(t, h, "fifo", "count q"), "q:0:1") })
	pa.DTMF("#")
	waitFor(t, "a left", func() bool { return a.Var("left") == "yes" })
	if a.Var("fifo_status") != "ABORTED" {
		t.Errorf("fifo_status = %q, want ABORTED", a.Var("fifo_status"))
	}
	b, _ := playtest.NewCall(t, h, "b", [2]string{"fifo_orbit_exten", "orbit:1"})
	playtest.Run(t, b, "fifo", "q in")
	waitFor(t, "b orbits", func() bool { return b.Var("orbited") == "yes" })
	if b.Var("fifo_status") != "TIMEOUT" {
		t.Errorf("fifo_status = %q, want TIMEOUT", b.Var("fifo_status"))
	}
	c, _ := playtest.NewCall(t, h, "c")
	playtest.Run(t, c, "fifo", "q in")
	waitFor(t, "c queued", func() bool { return strings.Contains(api(t, h, "fifo", "list"), c.UUID()) })
	c.Hangup(core.CauseNormalClearing)
	waitFor(t, "queue empty", func() bool { return !strings.Contains(api(t, h, "fifo", "list"), "<caller ") })
	if got := api(t, h, "fifo", "importance static_q"); got != "static_q:2\n" {
		t.Errorf("static queue from fifo.conf: %q", got)
	}
}

// TestOutboundMember: a member added with fifo_member is called when a caller waits and takes it.
func TestOutboundMember(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	if got := api(t, h, "fifo_member", "add q loopback/member 1 10 0"); got != "+OK\n" {
		t.Fatalf("fifo_member add: %q", got)
	}
	a, pa := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "fifo", "q in")
	waitFor(t, "member takes the caller", func() bool { return a.Peer() != nil })
	pa.Tone(600, 8000, 3*time.Second)
	m := pa.Mark()
	// the member's far side echoes: the caller hears itself through the member's call
	waitFor(t, "caller hears the member", func() bool { return playtest.Goertzel(pa.HeardSince(m), 600, 8000) > 0.3 })
	if !strings.Contains(api(t, h, "fifo", "list q"), `use_count="1"`) {
		t.Errorf("member not in use:\n%s", api(t, h, "fifo", "list q"))
	}
	a.Hangup(core.CauseNormalClearing)
	waitFor(t, "member call ends", func() bool {
		return strings.Contains(api(t, h, "fifo", "list q"), `use_count="0" timeout="10" lag="0" outbound_call_count="1"`)
	})
	if got := api(t, h, "fifo_member", "del q loopback/member"); got != "+OK\n" {
		t.Errorf("fifo_member del: %q", got)
	}
}
