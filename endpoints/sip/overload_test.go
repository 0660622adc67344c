package sip

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

const overloadOffer = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"

// rawCall is one INVITE from a rawUA, with what is needed to ACK and BYE it.
type rawCall struct {
	u      *rawUA
	target string
	id     string
	res    string
}

func (u *rawUA) invite(target, id string) *rawCall {
	u.t.Helper()
	u.send(u.request("INVITE", target, id, 1, "", overloadOffer))
	return &rawCall{u: u, target: target, id: id, res: u.recv(5 * time.Second)}
}

func (c *rawCall) code() int {
	n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(c.res, " ", 3)[min(1, len(strings.SplitN(c.res, " ", 3))-1)], "SIP/2.0"))
	return n
}

func (c *rawCall) inDialog(method string, cseq int, branch string) string {
	m := strings.Replace(c.u.request(method, c.target, c.id, cseq, "", ""), "To: <"+c.target+">", "To: "+header(c.res, "To"), 1)
	return strings.Replace(m, "branch=z9hG4bK"+c.id+strconv.Itoa(cseq), "branch=z9hG4bK"+c.id+branch, 1)
}

// ack acknowledges the final response (for a non-2xx, in the INVITE's transaction).
func (c *rawCall) ack() {
	if c.code() >= 300 {
		c.u.send(c.inDialog("ACK", 1, "1"))
		return
	}
	c.u.send(c.inDialog("ACK", 1, "ack"))
}

func (c *rawCall) bye() { c.byeWith(2) }

func (c *rawCall) byeWith(cseq int) {
	c.u.t.Helper()
	c.u.send(c.inDialog("BYE", cseq, "bye"))
	if r := c.u.recv(3 * time.Second); !strings.HasPrefix(r, "SIP/2.0 200") {
		c.u.t.Errorf("BYE %s: %q", c.id, r)
	}
}

// check503 fails unless res is FreeSWITCH's full-switch answer with a Retry-After of 1-5 s.
func check503(t *testing.T, what, res string) {
	t.Helper()
	if !strings.HasPrefix(res, "SIP/2.0 503 ") {
		t.Fatalf("%s: want 503, got %q", what, res)
	}
	ra, err := strconv.Atoi(header(res, "Retry-After"))
	if err != nil || ra < 1 || ra > 5 {
		t.Errorf("%s: Retry-After %q, want 1-5 (%q)", what, header(res, "Retry-After"), res)
	}
	if !strings.Contains(res, "Maximum Calls In Progress") || !strings.Contains(header(res, "Reason"), "cause=42") {
		t.Errorf("%s: reason phrase or Q.850 cause: %q", what, res)
	}
}

func profileStatus(t *testing.T, env *testEnv, profile string) string {
	out, _ := env.h.APIOutput(t.Context(), "sofia", "status profile "+profile)
	return out
}

// max-sessions=N: the (N+1)th INVITE gets 503 with Retry-After, counted and logged; the admitted
// calls keep working and a new call is admitted once one ended.
func TestMaxSessions503RetryAfter(t *testing.T) {
	env := newEnv(t, envOpt{})
	env.h.SetMaxSessions(2)
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	a, b := u.invite(target, "ms1"), u.invite(target, "ms2")
	for _, c := range []*rawCall{a, b} {
		if c.code() != 200 {
			t.Fatalf("call %s: %q", c.id, c.res)
		}
		c.ack()
	}
	c := u.invite(target, "ms3")
	check503(t, "third call", c.res)
	c.ack()
	if !strings.Contains(env.logs.String(), "reason=max-sessions") {
		t.Error("no WARNING naming max-sessions")
	}
	if st := profileStatus(t, env, "external"); !strings.Contains(st, "CALLS-REFUSED-503\t1") {
		t.Errorf("sofia status profile external:\n%s", st)
	}
	if out, _ := env.h.APIOutput(t.Context(), "status", ""); !strings.Contains(out, "max-sessions 1,") {
		t.Errorf("status:\n%s", out)
	}
	a.bye()
	waitFor(t, "one call left", 5*time.Second, func() bool { return env.h.SessionCount() == 1 })
	d := u.invite(target, "ms4")
	if d.code() != 200 {
		t.Fatalf("call after one ended: %q", d.res)
	}
	d.ack()
	b.bye()
	d.bye()
	waitFor(t, "no channels", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// freePortRange returns an even port p with p..p+n-1 free for UDP.
func freePortRange(t *testing.T, n int) int {
	for i := 0; i < 100; i++ {
		base := freeUDPPort(t) &^ 1
		var held []net.PacketConn
		ok := true
		for p := base; p < base+n; p++ {
			c, err := net.ListenPacket("udp", "127.0.0.1:"+itoa(p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// An exhausted RTP range answers 503 with Retry-After, counts it and logs a WARNING; a released
// pair comes back after rtp-port-quarantine-ms.
func TestRTPPortExhaustion503(t *testing.T) {
	base := freePortRange(t, 4)
	env := newEnv(t, envOpt{externalExtra: fmt.Sprintf(`<param name="rtp-ip" value="127.0.0.1"/>
		<param name="rtp-start-port" value="%d"/><param name="rtp-end-port" value="%d"/>
		<param name="rtp-port-quarantine-ms" value="300"/>`, base, base+3)})
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:9196@" + env.addr(t, "external").String()
	a, b := u.invite(target, "rp1"), u.invite(target, "rp2")
	for _, c := range []*rawCall{a, b} {
		if c.code() != 200 {
			t.Fatalf("call %s: %q", c.id, c.res)
		}
		c.ack()
	}
	c := u.invite(target, "rp3")
	check503(t, "call with no port left", c.res)
	c.ack()
	if !strings.Contains(env.logs.String(), "reason=rtp-ports") {
		t.Error("no WARNING naming the RTP ports")
	}
	st := profileStatus(t, env, "external")
	if !strings.Contains(st, "2/2 pairs in use, quarantine 300ms, exhausted 1") || !strings.Contains(st, "CALLS-REFUSED-503\t1") {
		t.Errorf("sofia status profile external:\n%s", st)
	}
	a.bye()
	released := time.Now()
	waitFor(t, "one call left", 5*time.Second, func() bool { return env.h.SessionCount() == 1 })
	if time.Since(released) < 250*time.Millisecond {
		q := u.invite(target, "rp4")
		check503(t, "call within the quarantine", q.res)
		q.ack()
	}
	time.Sleep(time.Until(released.Add(350 * time.Millisecond)))
	d := u.invite(target, "rp5")
	if d.code() != 200 {
		t.Fatalf("call after the quarantine: %q", d.res)
	}
	d.ack()
	b.bye()
	d.bye()
	waitFor(t, "no channels", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// sippStats reads the last row of SIPp's -trace_stat file in dir.
func sippStats(t *testing.T, dir string) map[string]int {
	files, _ := filepath.Glob(filepath.Join(dir, "*_.csv"))
	if len(files) == 0 {
		t.Fatal("no SIPp statistics file")
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("SIPp statistics: %v", err)
	}
	out := map[string]int{}
	for i, k := range rows[0] {
		if i < len(rows[len(rows)-1]) {
			out[k], _ = strconv.Atoi(rows[len(rows)-1][i])
		}
	}
	return out
}

// An overload run: authenticated SIPp callers at several times the configured
// sessions-per-second and max-sessions. Every refusal is a 503 with Retry-After (the scenario
// fails a call otherwise), every admitted call completes, and no channel is left afterwards.
func TestOverloadRunLeavesNoChannels(t *testing.T) {
	env := newEnv(t, envOpt{})
	env.h.SetSPS(40)
	env.h.SetMaxSessions(30)
	const rate, calls = 150, 600
	dir := t.TempDir()
	t0 := time.Now()
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_overload.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "9196", "-r", itoa(rate), "-m", itoa(calls), "-l", "200", "-d", "300",
		// A stray retransmission (a 407 or 200 for a message SIPp resent while the box was
		// slow) is absorbed, as a phone would, instead of aborting the call.
		"-default_behaviors", "all,-abortunexp",
		"-trace_stat", "-stf", filepath.Join(dir, "stat_.csv"), "-fd", "1")
	select {
	case <-r.done:
		r.finished = true
	case <-time.After(40 * time.Second):
		t.Fatal("SIPp did not finish")
	}
	elapsed := time.Since(t0)
	st := sippStats(t, dir)
	refused := env.h.Refusals()
	var nRefused uint64
	for _, n := range refused {
		nRefused += n
	}
	t.Logf("SIPp: %d calls, %d completed, %d failed; refused %v", st["TotalCallCreated"], st["SuccessfulCall(C)"], st["FailedCall(C)"], refused)
	if st["TotalCallCreated"] != calls {
		t.Errorf("SIPp placed %d calls, want %d", st["TotalCallCreated"], calls)
	}
	// SIPp aborts a call on a retransmitted provisional it no longer expects; on a loaded
	// machine a few may, but a 503 without Retry-After fails every refused call.
	if f := st["FailedCall(C)"]; f > calls/100 {
		errs, _ := os.ReadFile(filepath.Join(r.dir, "err.log"))
		t.Errorf("%d of %d calls failed; SIPp errors:\n%s", f, calls, sippErrorSummary(string(errs)))
	}
	if refused[core.RefuseSPS]+refused[core.RefuseMaxSessions] == 0 {
		t.Error("nothing refused for sessions-per-second or max-sessions")
	}
	since, _, _, _ := env.h.SessionStats()
	// sessions-per-second counts each calendar second: at most 40 in each one the run touched.
	if limit := uint64(40 * (int(elapsed.Seconds()) + 2)); since > limit {
		t.Errorf("%d sessions admitted in %s with sessions-per-second 40", since, elapsed)
	}
	if admitted := uint64(calls) - nRefused; since < admitted-uint64(st["FailedCall(C)"]) {
		t.Errorf("%d sessions created, %d calls admitted", since, admitted)
	}
	waitFor(t, "no channels after the run", 40*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// sippErrorSummary counts SIPp's error-file events by their first line.
func sippErrorSummary(errs string) string {
	counts := map[string]int{}
	for _, l := range strings.Split(errs, "\n") {
		if i := strings.Index(l, ": "); i > 0 && (strings.Contains(l, "Aborting") || strings.Contains(l, "Dead call") || strings.Contains(l, "failed")) {
			ev := l[i+2:]
			if j := strings.Index(ev, "received '"); j >= 0 {
				ev = ev[:j+10] + strings.SplitN(ev[j+10:], "\r", 2)[0]
			}
			ev = regexpCallID.ReplaceAllString(ev, "N")
			counts[ev]++
		}
	}
	var b strings.Builder
	for k, n := range counts {
		fmt.Fprintf(&b, "%5d %s\n", n, k)
	}
	return b.String()
}

var regexpCallID = regexp.MustCompile(`'?[0-9]+-[0-9]+@127\.0\.0\.1'?|index [0-9]+`)

// digestFor answers a Proxy-Authenticate challenge for 1000/1234 (qop=auth when offered).
func digestFor(challenge, method, uri string) string {
	param := func(name string) string {
		i := strings.Index(challenge, name+"=")
		if i < 0 {
			return ""
		}
		v := challenge[i+len(name)+1:]
		if strings.HasPrefix(v, `"`) {
			return strings.SplitN(v[1:], `"`, 2)[0]
		}
		return strings.TrimSpace(strings.SplitN(v, ",", 2)[0])
	}
	realm, nonce := param("realm"), param("nonce")
	ha1, ha2 := md5hex("1000:"+realm+":1234"), md5hex(method+":"+uri)
	if strings.Contains(param("qop"), "auth") {
		resp := md5hex(ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2)
		return fmt.Sprintf(`Digest username="1000", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`, realm, nonce, uri, resp)
	}
	return fmt.Sprintf(`Digest username="1000", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5`, realm, nonce, uri, md5hex(ha1+":"+nonce+":"+ha2))
}

// The dialog of an authenticated INVITE takes the To-tag of the 407 before it, so a caller that
// sends its BYE with the challenge's tag (SIPp does, after it aborted on a retransmitted 407 in
// an overload run) still ends its call instead of leaving it up with a 481.
func TestAuthenticatedDialogKeepsChallengeTag(t *testing.T) {
	env := newEnv(t, envOpt{})
	u := newRawUA(t, env.addr(t, "internal"))
	target := "sip:9196@" + env.addr(t, "internal").String()
	c := u.invite(target, "ct1")
	if c.code() != 407 {
		t.Fatalf("INVITE without credentials: %q", c.res)
	}
	tag := tagParam(header(c.res, "To"))
	c.ack()
	auth := "Proxy-Authorization: " + digestFor(header(c.res, "Proxy-Authenticate"), "INVITE", target) + "\n"
	u.send(strings.Replace(u.request("INVITE", target, "ct1", 2, auth, overloadOffer), "branch=z9hG4bKct12", "branch=z9hG4bKct1b", 1))
	ok := &rawCall{u: u, target: target, id: "ct1", res: u.recv(5 * time.Second)}
	if ok.code() != 200 {
		t.Fatalf("authenticated INVITE: %q", ok.res)
	}
	if got := tagParam(header(ok.res, "To")); got != tag {
		t.Errorf("200 To-tag %q, the 407 had %q", got, tag)
	}
	ok.u.send(ok.inDialog("ACK", 2, "ack"))
	waitFor(t, "answered", 3*time.Second, func() bool { return answeredInbound(env) != nil })
	c.byeWith(3) // with the 407's tag
	waitFor(t, "no channels", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

func tagParam(hdr string) string {
	_, tag, _ := strings.Cut(hdr, ";tag=")
	return strings.SplitN(tag, ";", 2)[0]
}
