package loopback_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// chainConf routes 2000 to a second pair that keeps itself in the path (loopback_bowout=false)
// and ends in echo, 3000 to unloop before echo, and 9196 to echo.
const chainConf = `<section name="dialplan"><context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/>
  </condition></extension>
  <extension name="keep"><condition field="destination_number" expression="^2000$">
    <action application="bridge" data="{loopback_bowout=false}loopback/9196"/>
  </condition></extension>
  <extension name="answerfirst"><condition field="destination_number" expression="^2200$">
    <action application="answer"/>
    <action application="bridge" data="{loopback_bowout=false}loopback/9196"/>
  </condition></extension>
  <extension name="recorded"><condition field="destination_number" expression="^2100$">
    <action application="answer"/>
    <action application="record_session" data="$${recordings_dir}/bowout.wav"/>
    <action application="bridge" data="{loopback_bowout=false}loopback/9196"/>
  </condition></extension>
  <extension name="unloop"><condition field="destination_number" expression="^3000$">
    <action application="unloop"/><action application="answer"/><action application="echo"/>
  </condition></extension>
</context></section>`

const controlledConf = `<section name="configuration"><configuration name="loopback.conf"><settings>
  <param name="bowout-controlled-hangup" value="true"/>
  <param name="bowout-hangup-cause" value="BOWOUT"/>
  <param name="fire-bowout-on-bridge" value="true"/>
</settings></configuration></section>`

func subscribe(h *core.Host, names ...string) *event.Subscription {
	return h.Bus.Subscribe(func(e *event.Event) bool {
		for _, n := range names {
			if e.Name == n || e.Subclass == n {
				return true
			}
		}
		return false
	}, 256)
}

// next returns the next event whose Channel-Name (or, with an empty name, any) matches.
func next(t *testing.T, sub *event.Subscription, name string) *event.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-sub.C():
			if name == "" || e.Get("Channel-Name") == name {
				return e
			}
		case <-deadline:
			t.Fatalf("no event for %q", name)
			return nil
		}
	}
}

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

func named(h *core.Host, name string) *core.Session {
	for _, s := range h.Sessions() {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// TestBowoutToKeptPair: the phone calls loopback/2000, whose B half bridges a pair that keeps
// itself (loopback_bowout=false, ending in echo); 2200 answers before bridging it, so the
// caller's bridge comes up first. The first pair bows out: the phone's channel is
// bridged to the kept pair's A half, which stands in for the real channel as in FreeSWITCH; the
// phone still hears its echo. With loopback.conf's controlled hangup the halves end with
// bowout-hangup-cause, and fire-bowout-on-bridge announces each half with loopback::direct.
func TestBowoutToKeptPair(t *testing.T) {
	for _, tc := range []struct {
		name, exten, conf string
		cause             string
		direct            bool
	}{
		{"default", "2000", "", "NORMAL_CLEARING", false},
		{"controlled", "2000", controlledConf, "BOWOUT", true},
		{"answered first", "2200", "", "NORMAL_CLEARING", false}, // the B half answers before its bridge
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := playtest.NewHost(t, playtest.Conf(chainConf+tc.conf))
			sub := subscribe(h, event.ChannelHangupComplete, "loopback::direct")
			defer sub.Close()
			s, ph := playtest.NewCall(t, h, "1000")
			playtest.Run(t, s, "bridge", "loopback/"+tc.exten)
			var kept *core.Session
			waitFor(t, "the phone bridged to the kept pair", func() bool {
				kept = named(h, "loopback/9196-a")
				return kept != nil && s.Peer() == kept && named(h, "loopback/"+tc.exten+"-a") == nil && named(h, "loopback/"+tc.exten+"-b") == nil
			})
			ph.Tone(700, 8000, 10*time.Second)
			ph.WaitTone(0, 700, 5*time.Second)
			if n := h.SessionCount(); n != 3 {
				t.Errorf("%d channels, want the phone's and the kept pair's", n)
			}
			direct := map[string]*event.Event{}
			causes := map[string]string{}
			for len(causes) < 2 || (tc.direct && len(direct) < 2) {
				e := next(t, sub, "")
				if e.Subclass == "loopback::direct" {
					direct[e.Get("Resigning-UUID")] = e
					continue
				}
				causes[e.Get("Channel-Name")] = e.Get("Hangup-Cause")
			}
			for _, n := range []string{"loopback/" + tc.exten + "-a", "loopback/" + tc.exten + "-b"} {
				if causes[n] != tc.cause {
					t.Errorf("%s hung up with %q, want %s", n, causes[n], tc.cause)
				}
			}
			if tc.direct {
				var legA string
				for _, e := range direct {
					if strings.HasSuffix(e.Get("Channel-Name"), "-a") {
						legA = e.Get("Connecting-Leg-A-UUID")
					}
				}
				if legA != s.UUID() {
					t.Errorf("loopback::direct of the A half connects %q, want the phone's channel %q", legA, s.UUID())
				}
			}
			s.Hangup(core.CauseNormalClearing)
			waitFor(t, "every channel gone", func() bool { return h.SessionCount() == 0 })
		})
	}
}

// TestBowoutOnExecute: loopback_bowout_on_execute on the dial string, or unloop in the B half's
// extension, makes the B half hand its extension to the caller's channel and leave before running
// it: the phone's own channel answers and echoes, and no loopback channel is left.
func TestBowoutOnExecute(t *testing.T) {
	for _, dial := range []string{"{loopback_bowout_on_execute=true}loopback/9196", "loopback/3000"} {
		t.Run(dial, func(t *testing.T) {
			h := playtest.NewHost(t, playtest.Conf(chainConf))
			sub := subscribe(h, "loopback::bowout")
			defer sub.Close()
			s, ph := playtest.NewCall(t, h, "1000")
			playtest.Run(t, s, "bridge", dial)
			e := next(t, sub, "")
			if e.Get("Acquired-UUID") != s.UUID() {
				t.Errorf("loopback::bowout acquired %q, want the phone's channel %q", e.Get("Acquired-UUID"), s.UUID())
			}
			select {
			case <-s.AnsweredC():
			case <-time.After(5 * time.Second):
				t.Fatal("the phone's channel was not answered by the handed-over extension")
			}
			ph.Tone(700, 8000, 10*time.Second)
			ph.WaitTone(0, 700, 5*time.Second)
			waitFor(t, "the pair gone", func() bool { return h.SessionCount() == 1 })
			if app, _ := s.CurrentApp(); app != "echo" {
				t.Errorf("the phone's channel runs %q, want echo", app)
			}
			if s.Var("loopback_leg") != "" {
				t.Errorf("loopback_leg=%q handed over to the real channel", s.Var("loopback_leg"))
			}
			s.Hangup(core.CauseNormalClearing)
			waitFor(t, "every channel gone", func() bool { return h.SessionCount() == 0 })
		})
	}
}

// TestNoBowoutWhileRecording: a half that records (record_session) keeps the pair in the path, as
// the recording would end with it: the phone hears its echo through the pair, still bridged to it.
func TestNoBowoutWhileRecording(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(strings.ReplaceAll(chainConf, "$${recordings_dir}", t.TempDir())))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "bridge", "loopback/2100")
	ph.Tone(700, 8000, 10*time.Second)
	ph.WaitTone(0, 700, 5*time.Second) // both bridges are up: a bowout would have started by now
	if p := s.Peer(); p == nil || p.Name() != "loopback/2100-a" {
		t.Errorf("the phone is not bridged to the recording pair's A half (peer %p)", p)
	}
	if n := h.SessionCount(); n != 5 {
		t.Errorf("%d channels, want the phone's and both pairs'", n)
	}
	s.Hangup(core.CauseNormalClearing)
	waitFor(t, "every channel gone", func() bool { return h.SessionCount() == 0 })
}
