// Package clustertest runs a goswitch cluster end to end: a throw-away PostgreSQL, Kamailio with
// the shipped conf/cluster/kamailio.cfg, and two goswitch nodes, in a network namespace the test
// makes (loopback only), with SIPp phones registering and calling through Kamailio.
package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goswitch/goswitch/internal/testhost"
)

func itoa(n int) string { return strconv.Itoa(n) }

func other(node string) string {
	if node == "node-a" {
		return "node-b"
	}
	return "node-a"
}

// listening waits until a SIPp phone has bound its UDP port in the namespace.
func (c *cluster) listening(port int) {
	c.t.Helper()
	waitFor(c.t, 5*time.Second, fmt.Sprintf("phone on %s:%d", phoneIP, port), func() bool {
		out, _ := exec.Command("ip", "netns", "exec", c.ns, "ss", "-lnu").Output()
		return strings.Contains(string(out), fmt.Sprintf("%s:%d ", phoneIP, port))
	})
}

// call makes one call from → to through Kamailio with Call-ID cid, the callee echoing RTP, and
// returns the node that carried it, after checking both legs' RTP counters in its CDRs.
func (c *cluster) call(cid, from, to string) string {
	c.t.Helper()
	before := map[string]int{"node-a": len(c.cdrLines("node-a")), "node-b": len(c.cdrLines("node-b"))}
	n, _ := strconv.Atoi(to)
	callee := c.sippAsync(20*time.Second, calleeEcho, phonePort(to), "-s", to, "-rtp_echo", "-mp", itoa(30000+2*(n-1000)))
	c.listening(phonePort(to))
	if err := c.sipp(20*time.Second, callerScenario(""), 0, "-s", from, "-key", "dest", to, "-cid_str", cid, "-d", "2000"); err != nil {
		select {
		case cerr := <-callee:
			c.t.Logf("callee: %v", cerr)
		case <-time.After(time.Second):
		}
		c.t.Fatalf("call %s -> %s: %v", from, to, err)
	}
	if err := <-callee; err != nil {
		c.t.Fatalf("callee %s: %v", to, err)
	}
	var node string
	var legs []string
	waitFor(c.t, 5*time.Second, "both legs' CDRs", func() bool {
		for name, k := range before {
			if lines := c.cdrLines(name); len(lines) >= k+2 {
				node, legs = name, lines[k:]
				return true
			}
		}
		return false
	})
	for _, l := range legs {
		f := strings.Split(strings.ReplaceAll(l, `"`, ""), ",")
		if len(f) < 5 {
			c.t.Fatalf("CDR %q", l)
		}
		in, _ := strconv.Atoi(f[2])
		out, _ := strconv.Atoi(f[3])
		leg := "callee leg"
		if f[0] == cid {
			leg = "caller leg"
		}
		// 2 s of 20 ms packets each way; the callee only sends what it received (echo).
		if in < 50 || out < 50 {
			c.t.Fatalf("%s %s -> %s on %s: RTP in %d out %d packets, want both ways", leg, from, to, node, in, out)
		}
		c.t.Logf("%s %s -> %s on %s: RTP in %d, out %d packets", leg, from, to, node, in, out)
	}
	return node
}

func TestCluster(t *testing.T) {
	c := newCluster(t)
	waitFor(t, 30*time.Second, "first registration through Kamailio", func() bool { return c.register("1000") == nil })

	// Registrations: a user on each node (the AoR hash decides).
	on := map[string]string{} // node -> user
	for i := 1000; i < 1005 && len(on) < 2; i++ {
		u := itoa(i)
		n := c.registered(u)
		if on[n] == "" {
			on[n] = u
		}
		if _, path := c.row(u); !strings.Contains(path, proxyIP) || !strings.Contains(path, "received=") {
			t.Fatalf("Path %q does not route back through Kamailio", path)
		}
	}
	if len(on) < 2 {
		t.Fatalf("users 1000-1004 all registered on one node: %v", on)
	}
	ua, ub := on["node-a"], on["node-b"]

	// Calls between them, both directions on one Call-ID: Kamailio hashes it to one node, which
	// is the caller's node (not the callee's) for one of the two calls; that node finds the
	// callee in the shared table and reaches it through Kamailio by the Path.
	cid := fmt.Sprintf("call-%d@%s", os.Getpid(), phoneIP)
	h1 := c.call(cid, ua, ub)
	h2 := c.call(cid, ub, ua)
	if h1 != h2 {
		t.Fatalf("one Call-ID went to %s and %s", h1, h2)
	}
	t.Logf("calls carried by %s; %s is registered on the other node", h1, map[string]string{"node-a": ub, "node-b": ua}[h1])
	// Both legs of both calls also land in the one PostgreSQL cdr table (cdr_csv sqlite + db-dsn).
	waitFor(t, 5*time.Second, "CDR rows in PostgreSQL", func() bool {
		var n int
		c.db.QueryRow(`SELECT count(*) FROM cdr WHERE billsec >= 1 AND hangup_cause = 'NORMAL_CLEARING'`).Scan(&n)
		return n >= 4
	})

	c.blf(ua, ub)
	c.clusterLimit()
	c.conference()
	c.voicemailAndMWI()
	c.failover()
}

// blf subscribes a watcher through a node to callee's dialog state and makes the call through
// the other node: the watcher's node learns of it by PostgreSQL LISTEN/NOTIFY.
func (c *cluster) blf(caller, callee string) {
	t := c.t
	const watcher = "1006"
	watchNode := "node-a"
	watch := c.sippAsync(30*time.Second, blfWatcher(), phonePort(watcher), "-s", watcher, "-key", "dest", callee,
		"-cid_str", c.callIDFor(watchNode))
	waitFor(t, 5*time.Second, "the watcher's subscription", func() bool {
		var n int
		c.db.QueryRow(`SELECT count(*) FROM sip_subscriptions WHERE sub_to_user = $1`, callee).Scan(&n)
		return n > 0
	})
	if n := c.call(c.callIDFor(other(watchNode)), caller, callee); n == watchNode {
		t.Fatalf("call went to the watcher's node %s", n)
	}
	if err := <-watch; err != nil {
		t.Fatalf("BLF watcher on %s of %s (call on %s): %v", watchNode, callee, other(watchNode), err)
	}
	t.Logf("BLF watcher on %s saw %s's call on %s confirmed and terminated", watchNode, callee, other(watchNode))
}

// clusterLimit holds the one "limit db cluster trunk 1" slot with a call through node A: a call
// through node B is refused (the count is in PostgreSQL), and the slot is free after the hangup.
func (c *cluster) clusterLimit() {
	t := c.t
	rows := func() int {
		var n int
		c.db.QueryRow(`SELECT count(*) FROM limit_data WHERE realm = 'cluster' AND id = 'trunk'`).Scan(&n)
		return n
	}
	first := c.sippAsync(20*time.Second, callerScenario(""), 0, "-s", "1000", "-key", "dest", "limited",
		"-cid_str", c.callIDFor("node-a"), "-d", "3000")
	waitFor(t, 5*time.Second, "the first call's limit row", func() bool { return rows() == 1 })
	if err := c.sipp(5*time.Second, fmt.Sprintf(whoamiScenario, 486), 5998, "-key", "dest", "limited",
		"-cid_str", c.callIDFor("node-b")); err != nil {
		t.Fatalf("second call through node-b not refused 486 while node-a holds the limit: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first limited call: %v", err)
	}
	waitFor(t, 5*time.Second, "the limit released at hangup", func() bool { return rows() == 0 })
	t.Logf("limit db: one slot held through node-a refused a call through node-b (486), freed at hangup")
}

// voicemailAndMWI leaves a message through one node for a phone registered on the other, which
// gets the MWI NOTIFY (LISTEN/NOTIFY), lists the message and plays it from shared storage.
func (c *cluster) voicemailAndMWI() {
	t := c.t
	const box = "1005"
	phone := c.sippAsync(25*time.Second, mwiPhone, phonePort(box), "-s", box)
	var home string
	waitFor(t, 10*time.Second, box+"'s registration row", func() bool { home, _ = c.row(box); return home != "" })
	deposit := other(home)
	// 15 s: the vanilla greeting and the beep take about 8, the rest is the message: a 1 kHz tone.
	const msgHz = 1000
	caller := c.newPhone(msgHz)
	left := c.sippAsync(30*time.Second, mediaCaller(""), 0, "-s", "1000", "-key", "dest", "vm-"+box, "-key", "rtpport", caller.port(),
		"-cid_str", c.callIDFor(deposit), "-d", "15000", "-trace_msg", "-message_file", filepath.Join(c.dir, "vm-deposit.msg"))
	caller.setDst(nodeMedia(t, filepath.Join(c.dir, "vm-deposit.msg"), 10*time.Second))
	if err := <-left; err != nil {
		t.Fatalf("leave voicemail through %s: %v", deposit, err)
	}
	if err := <-phone; err != nil { // SIPp's own timeout bounds the wait
		t.Fatalf("MWI phone on %s (message left through %s): %v", home, deposit, err)
	}
	t.Logf("voicemail left through %s; %s's phone on %s got Messages-Waiting: yes", deposit, box, home)

	// Listed on the other node: the index is in PostgreSQL, the audio on the shared path.
	list := strings.TrimSpace(c.gsapi(home, "vm_list "+box+"@"+domain))
	f := strings.Split(list, ":")
	if len(f) < 10 || f[1] != "0" || !strings.HasPrefix(f[5], c.voice) {
		t.Fatalf("vm_list on %s: %q", home, list)
	}
	if st, err := os.Stat(f[5]); err != nil || st.Size() < 8000 {
		t.Fatalf("message audio %s: %v", f[5], err)
	}
	// Played from the other node: voicemail check, 1 (new messages) during the menu; the
	// listener hears the message (the 1 kHz tone left through the other node), and the message
	// is marked read once it has played.
	listener := c.newPhone(0)
	checked := c.sippAsync(30*time.Second, mediaCaller(infoDigit(3000, "1")), 0, "-s", box, "-key", "dest", "vmcheck-"+box,
		"-key", "rtpport", listener.port(), "-cid_str", c.callIDFor(home), "-d", "14000",
		"-trace_msg", "-message_file", filepath.Join(c.dir, "vm-check.msg"))
	listener.setDst(nodeMedia(t, filepath.Join(c.dir, "vm-check.msg"), 10*time.Second))
	if err := <-checked; err != nil {
		t.Fatalf("voicemail check on %s: %v", home, err)
	}
	all := listener.framesSince(time.Time{})
	var tone [][]int16
	for _, f := range loud(all, 500) {
		if toneShare([][]int16{f}, msgHz) > 0.8 {
			tone = append(tone, f)
		}
	}
	// The message is about 7 s of tone; prompts are speech, never 1 kHz alone for long.
	if len(tone) < 100 {
		t.Fatalf("voicemail check on %s: %d of %d frames were the message's %d Hz tone, want ≥ 100 (2 s)", home, len(tone), len(all), msgHz)
	}
	t.Logf("voicemail check on %s heard the message left through %s: %d frames (%.1f s) of its %d Hz tone, level %.0f",
		home, deposit, len(tone), float64(len(tone))/50, msgHz, testhost.Energy(tone[len(tone)/2]))
	list = strings.TrimSpace(c.gsapi(deposit, "vm_list "+box+"@"+domain))
	if f = strings.Split(list, ":"); len(f) < 10 || f[1] == "0" {
		t.Fatalf("after playing on %s, vm_list on %s: %q (not read)", home, deposit, list)
	}
	t.Logf("message %s listed and played from %s", f[5], home)
}

// failover kills -9 the node holding 1000's registration: REGISTERs (AoR-hashed to it) move to
// the survivor within the probe interval plus one retry, and 1000's registration stays in PostgreSQL.
func (c *cluster) failover() {
	t := c.t
	n1, _ := c.row("1000")
	victim := c.nodes[n1]
	syscall.Kill(victim.Process.Pid, syscall.SIGKILL)
	killed := time.Now()
	if n, _ := c.row("1000"); n != n1 {
		t.Fatalf("1000's row lost with its node: %q", n)
	}
	waitFor(t, time.Duration(probeS)*time.Second+15*time.Second, "registration after failover", func() bool {
		return c.register("1000") == nil
	})
	took := time.Since(killed)
	var n2 string
	waitFor(t, 5*time.Second, "1000's row rewritten by the survivor", func() bool { n2, _ = c.row("1000"); return n2 != n1 && n2 != "" })
	for _, u := range []string{"1001", "1002"} {
		if err := c.register(u); err != nil {
			t.Fatalf("register %s after failover: %v", u, err)
		}
	}
	t.Logf("failover: %s killed, re-registration accepted by %s after %v", n1, n2, took.Round(time.Millisecond))
	c.conferenceFailback(n1)
}
