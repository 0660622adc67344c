package loopback_test

import (
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/dialplan"
	"github.com/goswitch/goswitch/endpoints/loopback"
)

// echoConf routes 9196 (the B half's destination) to answer and echo, as the vanilla dialplan does.
const echoConf = `<section name="dialplan"><context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/>
  </condition></extension>
</context></section>`

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want loopback.Target
	}{
		{"9196", loopback.Target{Exten: "9196"}},
		{"9196/features", loopback.Target{Exten: "9196", Context: "features"}},
		{"9196/features/XML", loopback.Target{Exten: "9196", Context: "features", Dialplan: "XML"}},
		{"1000/default/XML/extra", loopback.Target{Exten: "1000", Context: "default", Dialplan: "XML/extra"}},
		{"app=voicemail:default example.com 1000", loopback.Target{Exten: "voicemail", App: "voicemail", AppArgs: "default example.com 1000"}},
		{"app=echo", loopback.Target{Exten: "echo", App: "echo"}},
	} {
		if got := loopback.ParseTarget(tc.in); got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestLoopbackCall bridges a phone to loopback/9196, which the B half routes to answer and echo, the phone hears its
// own tone back through both halves' media, the halves name each other, and hanging the phone up
// ends every channel.
func TestLoopbackCall(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(echoConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "bridge", "loopback/9196")
	select {
	case <-s.AnsweredC():
	case <-time.After(5 * time.Second):
		t.Fatal("the loopback call was not answered")
	}
	ph.Tone(700, 8000, 10*time.Second)
	ph.WaitTone(0, 700, 5*time.Second) // through loopback-a, the pipe, loopback-b's echo and back
	var a, b *core.Session
	for _, x := range h.Sessions() {
		switch x.Var("loopback_leg") {
		case "A":
			a = x
		case "B":
			b = x
		}
	}
	if a == nil || b == nil {
		t.Fatalf("loopback halves: a=%v b=%v", a, b)
	}
	if a.Var("other_loopback_leg_uuid") != b.UUID() || b.Var("other_loopback_leg_uuid") != a.UUID() {
		t.Errorf("halves do not name each other: %q %q", a.Var("other_loopback_leg_uuid"), b.Var("other_loopback_leg_uuid"))
	}
	if b.Profile().Source != "mod_loopback" || b.Profile().DestNumber != "9196" || b.Profile().Context != "default" {
		t.Errorf("B profile %+v", b.Profile())
	}
	s.Hangup(core.CauseNormalClearing)
	for _, x := range []*core.Session{s, a, b} {
		select {
		case <-x.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still up after the caller hung up", x.Name())
		}
	}
}

// TestLoopbackCause: the B half hanging up with a cause fails the bridge with that cause.
func TestLoopbackCause(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(""))
	s, _ := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "bridge", "loopback/app=hangup:USER_BUSY")
	playtest.Wait(t, s, 5*time.Second)
	if got := s.Var("originate_disposition"); got != "USER_BUSY" {
		t.Errorf("originate_disposition = %q, want USER_BUSY", got)
	}
}
