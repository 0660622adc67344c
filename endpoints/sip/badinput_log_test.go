package sip

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGarbageLogBounded: 1,000 unparseable 60 KB datagrams cost a bounded amount of log: each
// logged message shows at most 512 bytes of the input, and floods are summarized.
func TestGarbageLogBounded(t *testing.T) {
	env := newEnv(t, envOpt{})
	dst := net.UDPAddrFromAddrPort(env.addr(t, "internal"))
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 60*1024)
	for i := range garbage {
		garbage[i] = byte(rng.IntN(256))
		if i%80 == 79 {
			garbage[i] = '\n'
		}
	}
	copy(garbage, "GARBAGE ")
	buf := make([]byte, 4096)
	// ping waits for an answer to OPTIONS: sipgo reads one socket in order, so every datagram
	// sent before it has been parsed (and logged) by then.
	ping := func(n int) {
		t.Helper()
		laddr := c.LocalAddr().String()
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ping%d;rport\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=p%d\r\nTo: <sip:%s>\r\nCall-ID: ping%d@probe\r\nCSeq: 1 OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", dst, laddr, n, n, dst, n)
		if _, err := c.WriteToUDP([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			k, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("no answer to OPTIONS %d: %v", n, err)
			}
			if bytes.Contains(buf[:k], []byte(fmt.Sprintf("ping%d@probe", n))) {
				return
			}
		}
	}
	ping(0)
	before := len(env.logs.String())
	start := time.Now()
	const sent, batch = 1000, 2
	for i := 0; i < sent; i += batch {
		for range batch {
			if _, err := c.WriteToUDP(garbage, dst); err != nil {
				t.Fatal(err)
			}
		}
		ping(i/batch + 1)
	}
	// Every datagram is either logged (cut) or counted in a "suppressed" summary line.
	accounted := func(logs string) int {
		n := strings.Count(logs, `msg="failed to parse"`)
		for _, m := range regexp.MustCompile(`suppressed=(\d+)`).FindAllStringSubmatch(logs, -1) {
			k, _ := strconv.Atoi(m[1])
			n += k
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for accounted(env.logs.String()[before:]) < sent && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	logs := env.logs.String()[before:]
	if n := accounted(logs); n != sent {
		t.Errorf("%d of %d garbage datagrams logged or counted as suppressed", n, sent)
	}
	elapsed := time.Since(start)
	longest, garbageBytes, lines := 0, 0, 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "failed to parse") || strings.Contains(l, "log rate limit") {
			longest = max(longest, len(l))
			garbageBytes += len(l) + 1
			lines++
		}
	}
	t.Logf("%d garbage datagrams of %d bytes in %v: %d log lines, %d bytes (%.0f per datagram), longest line %d bytes",
		sent, len(garbage), elapsed.Round(time.Millisecond), lines, garbageBytes, float64(garbageBytes)/sent, longest)
	if longest > 2048 {
		t.Errorf("a log line of %d bytes: bad input is not truncated", longest)
	}
	// 5 lines a second for one message, plus one summary a second.
	if limit := 6 * (int(elapsed.Seconds()) + 3); lines > limit {
		t.Errorf("%d log lines for %d garbage datagrams in %v (> %d): not rate limited", lines, sent, elapsed, limit)
	}
	if !strings.Contains(logs, "bytes omitted") {
		t.Errorf("no truncated message in the log")
	}
	if !strings.Contains(logs, "suppressed") {
		t.Errorf("no suppressed-messages summary in the log")
	}
}
