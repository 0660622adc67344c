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

// TestSIPpSleepBeforeAnswerSendsNoEarlyMedia: 9195 is sleep 1000, answer, echo (vanilla sleeps
// before answering for the default-password warning). FreeSWITCH's sleep needs no media, so
// nothing but the 200 comes after the 100: the SIPp caller fails on a 183.
func TestSIPpSleepBeforeAnswerSendsNoEarlyMedia(t *testing.T) {
	env := newEnv(t, envOpt{})
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_no_early.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9195", "-key", "rtpport", itoa(freeUDPPort(t)), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "300", "-mi", "127.0.0.1")
	a.wait(t, "caller")
}
