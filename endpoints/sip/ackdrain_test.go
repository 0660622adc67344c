package sip

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// The ACK of a 407 is taken at once: no goroutine stays parked in sipgo's ackSend until Timer I
// (5 s) for every challenged call.
func TestChallengeACKNotParked(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()
	for i := range 20 {
		c := u.invite(target, "park"+itoa(i))
		if c.code() != 407 {
			t.Fatalf("INVITE %d: %q", i, c.res)
		}
		c.ack()
	}
	parked := func() int {
		buf := make([]byte, 1<<22)
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "sip.(*ServerTx).ackSend(")
	}
	deadline := time.Now().Add(2 * time.Second)
	for parked() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines parked with a 407's ACK", parked())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
