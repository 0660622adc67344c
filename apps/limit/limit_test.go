package limit_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/limit"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/dialplan"
)

const conf = `<section name="dialplan"><context name="default">
  <extension name="limit_exceeded"><condition field="destination_number" expression="^limit_exceeded$">
    <action application="hangup" data="CALL_REJECTED"/></condition></extension>
  <extension name="parked"><condition field="destination_number" expression="^parked$">
    <action application="park"/></condition></extension>
</context></section>`

func usage(t *testing.T, h *core.Host, args string) string {
	t.Helper()
	out, err := h.APIOutput(t.Context(), "limit_usage", args)
	if err != nil {
		t.Fatal(err)
	}
	return out
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

// TestTransferToLimitExceeded: without a destination the refused channel is transferred to
// limit_exceeded in its context; the counters go at hangup.
func TestTransferToLimitExceeded(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	a, _ := playtest.NewCall(t, h, "a")
	b, _ := playtest.NewCall(t, h, "b")
	c, _ := playtest.NewCall(t, h, "c")
	for _, s := range []*core.Session{a, b} {
		playtest.Run(t, s, "limit", "hash realm res 2", "park", "")
	}
	waitFor(t, "two counted", func() bool { return usage(t, h, "hash realm res") == "2" })
	if a.Var("limit_usage") == "" || b.Var("limit_usage_realm_res") == "" {
		t.Errorf("limit_usage vars: %q %q", a.Var("limit_usage"), b.Var("limit_usage_realm_res"))
	}
	playtest.Run(t, c, "limit", "hash realm res 2", "park", "")
	playtest.Wait(t, c, 5*time.Second)
	if got := c.HangupCause(); got != core.CauseCallRejected {
		t.Errorf("refused channel ended with %s, want CALL_REJECTED (limit_exceeded)", got)
	}
	if st, _ := h.APIOutput(t.Context(), "limit_status", "hash"); !strings.Contains(st, "realm_res: 2") {
		t.Errorf("limit_status:\n%s", st)
	}
	a.Hangup(core.CauseNormalClearing)
	waitFor(t, "released at hangup", func() bool { return usage(t, h, "hash realm res") == "1" })
	if got := usage(t, h, "db realm res"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("unknown backend: %q", got)
	}
}

// TestReleasedOnTransferUnlessIgnored: a transfer releases the count; limit_ignore_transfer
// keeps it.
func TestReleasedOnTransferUnlessIgnored(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	a, _ := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "limit", "hash r1 x 1", "transfer", "parked XML default")
	waitFor(t, "a parked", func() bool { return a.State() == core.StatePark })
	waitFor(t, "released on transfer", func() bool { return usage(t, h, "hash r1 x") == "0" })
	b, _ := playtest.NewCall(t, h, "b", [2]string{"limit_ignore_transfer", "true"})
	playtest.Run(t, b, "limit", "hash r1 y 1", "transfer", "parked XML default")
	waitFor(t, "b parked", func() bool { return b.State() == core.StatePark })
	time.Sleep(150 * time.Millisecond)
	if got := usage(t, h, "hash r1 y"); got != "1" {
		t.Errorf("with limit_ignore_transfer the count is %q, want 1", got)
	}
	b.Hangup(core.CauseNormalClearing)
	waitFor(t, "released at hangup", func() bool { return usage(t, h, "hash r1 y") == "0" })
}

// TestRateAndHangupCause: max/interval counts calls per interval (a hangup does not give the
// slot back); "!CAUSE" hangs the refused channel up with that cause.
func TestRateAndHangupCause(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	for i, want := range []core.Cause{core.CauseNormalClearing, core.CauseNormalClearing, core.CauseUserBusy} {
		s, _ := playtest.NewCall(t, h, "r")
		playtest.Run(t, s, "limit", "hash rate res 2/60 !USER_BUSY", "hangup", "")
		playtest.Wait(t, s, 5*time.Second)
		if got := s.HangupCause(); got != want {
			t.Errorf("call %d: %s, want %s", i+1, got, want)
		}
	}
	// counts go when the channel is done (the watcher sees Done), the interval's count stays
	waitFor(t, "usage/rate 0/2", func() bool { return usage(t, h, "hash rate res rate") == "0/2" })
	if got, _ := h.APIOutput(t.Context(), "limit_interval_reset", "hash rate res"); got != "+OK\n" {
		t.Errorf("interval reset: %q", got)
	}
	s, _ := playtest.NewCall(t, h, "r")
	playtest.Run(t, s, "limit", "hash rate res 2/60 !USER_BUSY", "hangup", "")
	playtest.Wait(t, s, 5*time.Second)
	if s.HangupCause() != core.CauseNormalClearing {
		t.Errorf("after interval reset: %s", s.HangupCause())
	}
}

// TestLimitExecute: the count holds while the application runs.
func TestLimitExecute(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	a, _ := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "limit_execute", "hash ex res 1 sleep 400", "park", "")
	waitFor(t, "counted", func() bool { return usage(t, h, "hash ex res") == "1" })
	waitFor(t, "released after the app", func() bool { return usage(t, h, "hash ex res") == "0" })
}

// TestReleasedBeforeReporting: the count is free by the time the channel reports (CDR writers,
// CHANNEL_HANGUP_COMPLETE), as FreeSWITCH's state handler frees it in CS_HANGUP, so a client
// that sees the hangup and dials again is not refused.
func TestReleasedBeforeReporting(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(conf))
	seen := make(chan string, 1)
	h.OnReporting(func(s *core.Session) {
		out, _ := h.APIOutput(t.Context(), "limit_usage", "hash rep res")
		select {
		case seen <- out:
		default:
		}
	})
	a, _ := playtest.NewCall(t, h, "a")
	playtest.Run(t, a, "limit", "hash rep res 1", "park", "")
	waitFor(t, "counted", func() bool { return usage(t, h, "hash rep res") == "1" })
	a.Hangup(core.CauseNormalClearing)
	select {
	case got := <-seen:
		if got != "0" {
			t.Errorf("usage while reporting = %q, want 0", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reporting")
	}
}
