package sip

import (
	"testing"

	"github.com/goswitch/goswitch/core"
)

// TestSIPpCalleeSeesCaller: 1000 calls 1001; both have effective_caller_id_* in the directory.
// The INVITE to 1001 (a SIPp UAS checking From) presents 1000, as FreeSWITCH does: the callee's
// own variables land on its leg, for its later calls, not in what it is shown.
func TestSIPpCalleeSeesCaller(t *testing.T) {
	env := newEnv(t, envOpt{})
	b := registerUAS(t, env, "uas_cid.xml", "1001", "0", "PCMU", 200)
	a := callAs1000(t, env, "1001", freeUDPPort(t), 800)
	waitBridged(t, env, func(_, callee *core.Session) bool {
		if got := callee.Var("effective_caller_id_name"); got != "Extension 1001" {
			t.Errorf("callee leg effective_caller_id_name = %q, want its directory value", got)
		}
		if p := callee.Profile(); p.CallerIDName != "Extension 1000" || p.CallerIDNumber != "1000" {
			t.Errorf("callee leg caller id %q <%s>, want the caller's", p.CallerIDName, p.CallerIDNumber)
		}
		return true
	})
	a.wait(t, "caller")
	b.wait(t, "callee")
}
