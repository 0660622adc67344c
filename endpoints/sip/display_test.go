package sip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const displayExt = `<extension name="display"><condition field="destination_number" expression="^7777$">
  <action application="answer"/><action application="send_display" data="FreeSWITCH Conference|3500"/>
  <action application="hangup"/></condition></extension>`

// TestSIPpSendDisplay: send_display reaches a phone that allows UPDATE as an UPDATE with
// P-Asserted-Identity, and one that does not as an INFO with X-FS-Display-Name/Number.
func TestSIPpSendDisplay(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: displayExt})
	for _, tc := range []struct{ allow, want string }{
		{"INVITE, ACK, BYE, CANCEL, UPDATE", `UPDATE sip:`},
		{"INVITE, ACK, BYE, CANCEL, INFO", `INFO sip:`},
	} {
		r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_display.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
			"-key", "dest", "7777", "-key", "allow", tc.allow, "-key", "rtpport", itoa(freeUDPPort(t)),
			"-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
		r.wait(t, "caller that gets the display ("+tc.want+")")
		msgs, _ := os.ReadFile(filepath.Join(r.dir, "msg.log"))
		m := string(msgs)
		if !strings.Contains(m, tc.want) {
			t.Errorf("allow %q: no %q received:\n%s", tc.allow, tc.want, tail(m, 3000))
		}
		switch tc.want {
		case `UPDATE sip:`:
			if !strings.Contains(m, `P-Asserted-Identity: "FreeSWITCH Conference" <sip:3500@`) {
				t.Errorf("UPDATE without the display identity:\n%s", tail(m, 3000))
			}
		default:
			if !strings.Contains(m, "X-FS-Display-Name: FreeSWITCH Conference") || !strings.Contains(m, "X-FS-Display-Number: 3500") {
				t.Errorf("INFO without the display headers:\n%s", tail(m, 3000))
			}
		}
	}
}
