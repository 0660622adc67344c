package conference_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
)

const outcallConf = confConf + `<section name="dialplan"><context name="default">
  <extension name="tone"><condition field="destination_number" expression="^tone$">
    <action application="answer"/><action application="playback" data="tone_stream://%(10000,0,1200);loops=-1"/></condition></extension>
</context></section>`

// TestAutoOutcall: the channel that creates a conference with conference_set_auto_outcall calls
// the party in (vanilla's mad_boss extensions); with conference_utils_auto_outcall_flags=mute the
// party is muted. "conference <name> bgdial" calls one more.
func TestAutoOutcall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags string
		heard bool
	}{{"none", true}, {"mute", false}} {
		h := playtest.NewHost(t, playtest.Conf(outcallConf))
		a, pa := playtest.NewCall(t, h, "boss",
			[2]string{"conference_auto_outcall_caller_id_name", "Mad Boss"},
			[2]string{"conference_auto_outcall_caller_id_number", "0911"},
			[2]string{"conference_auto_outcall_timeout", "10"},
			[2]string{"conference_utils_auto_outcall_flags", tc.flags})
		playtest.Run(t, a, "conference_set_auto_outcall", "loopback/tone", "conference", "boss_room")
		waitFor(t, "outcalled party joins", func() bool { return strings.TrimSpace(api(t, h, "boss_room count")) == "2" })
		m := pa.Mark()
		if tc.heard {
			waitFor(t, "the boss hears the party", func() bool { return playtest.Goertzel(pa.HeardSince(m), 1200, 8000) > 0.3 })
		} else {
			time.Sleep(800 * time.Millisecond) // a window in which a muted party must stay unheard
			if g := playtest.Goertzel(pa.HeardSince(m), 1200, 8000); g > 0.05 {
				t.Errorf("a muted outcall party is heard (1200 Hz share %.3f)", g)
			}
		}
		if tc.flags == "none" {
			if out := api(t, h, "boss_room bgdial loopback/tone 1234 Extra"); !strings.HasPrefix(out, "OK Job-UUID") {
				t.Errorf("bgdial: %q", out)
			}
			waitFor(t, "bgdial party joins", func() bool { return strings.TrimSpace(api(t, h, "boss_room count")) == "3" })
			if !strings.Contains(api(t, h, "boss_room list"), "Mad Boss") {
				t.Errorf("outcall caller id not in the member list:\n%s", api(t, h, "boss_room list"))
			}
		}
	}
}
