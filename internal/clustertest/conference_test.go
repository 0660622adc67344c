package clustertest

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// conference: three callers of one conference extension, with Call-IDs the Call-ID hash sends to
// node A, B and A, all reach the one node Kamailio's R-URI-user hash picks for it: one
// conference of three on that node, none on the other, and each caller hears the other two's
// tones (and not its own) through the mixer.
func (c *cluster) conference() {
	t := c.t
	const room = "3000"
	name := room + "-" + domain
	users := []string{"1007", "1008", "1009"}
	freqs := []float64{400, 700, 1100}
	cids := []string{c.callIDFor("node-a"), c.callIDFor("node-b"), c.callIDFor("node-a")}
	var phones []*rtpPhone
	var calls []<-chan error
	for i, u := range users {
		p := c.newPhone(freqs[i])
		log := filepath.Join(c.dir, "conference-"+u+".msg")
		calls = append(calls, c.sippAsync(30*time.Second, mediaCaller(""), 0, "-s", u, "-key", "dest", room,
			"-key", "rtpport", p.port(), "-cid_str", cids[i], "-d", "8000", "-trace_msg", "-message_file", log))
		p.setDst(nodeMedia(t, log, 10*time.Second))
		phones = append(phones, p)
	}
	var host string
	waitFor(t, 10*time.Second, "three members in one conference", func() bool {
		for _, n := range []string{"node-a", "node-b"} {
			if strings.TrimSpace(c.gsapi(n, "conference "+name+" count")) == "3" {
				host = n
				return true
			}
		}
		return false
	})
	if out := c.gsapi(other(host), "conference list"); !strings.Contains(out, "No active conferences") {
		t.Fatalf("conference on %s too: %q", other(host), out)
	}
	list := c.gsapi(host, "conference "+name+" list")
	for _, u := range users {
		if !strings.Contains(list, ";"+u+";") {
			t.Fatalf("conference list on %s lacks %s: %q", host, u, list)
		}
	}
	from := time.Now()
	waitFor(t, 6*time.Second, "a second of audio at each caller", func() bool {
		for _, p := range phones {
			if len(loud(p.framesSince(from), 1000)) < 50 {
				return false
			}
		}
		return true
	})
	for i, p := range phones {
		heard := loud(p.framesSince(from), 1000)
		var shares []float64
		for j, f := range freqs {
			s := toneShare(heard, f)
			shares = append(shares, s)
			if j == i && s > 0.05 {
				t.Fatalf("%s hears its own %v Hz in the conference (share %.2f)", users[i], f, s)
			}
			if j != i && s < 0.25 {
				t.Fatalf("%s does not hear %s's %v Hz (share %.2f of %d frames)", users[i], users[j], f, s, len(heard))
			}
		}
		t.Logf("%s on %s hears %v Hz shares %.2f", users[i], host, freqs, shares)
	}
	for i, call := range calls {
		if err := <-call; err != nil {
			t.Fatalf("conference caller %s: %v", users[i], err)
		}
	}
	t.Logf("conference %s: 3 callers (Call-IDs hashed to node-a, node-b, node-a) all on %s", name, host)
}

// roomHost says which node Kamailio sends a call for room to: rooms 3380-3399 answer with the
// node's whoami code (nodeConf) instead of holding a conference, and Kamailio places them by the
// conference rule like any conference.
func (c *cluster) roomHost(room string) string {
	c.t.Helper()
	for _, n := range []string{"node-a", "node-b"} {
		if c.sipp(5*time.Second, fmt.Sprintf(whoamiScenario, whoamiCode[n]), 5997, "-key", "dest", room) == nil {
			return n
		}
	}
	c.t.Fatalf("room %s reached neither node: %v", room, c.lastErr)
	return ""
}

// conferenceFailback runs with victim killed: rooms are placed on the survivor; once the victim
// is back, those rooms stay on the survivor (a conference under way is not split), while rooms
// first called now are spread over both nodes again by the hash.
func (c *cluster) conferenceFailback(victim string) {
	t := c.t
	survivor := other(victim)
	var moved []string
	for i := 3390; i < 3400; i++ {
		if n := c.roomHost(itoa(i)); n != survivor {
			t.Fatalf("room %d on %s while %s is down", i, n, victim)
		}
		moved = append(moved, itoa(i))
	}
	c.startNode(victim)
	c.callIDFor(victim) // Kamailio's probes have found it answering again
	for _, r := range moved {
		if n := c.roomHost(r); n != survivor {
			t.Fatalf("room %s moved back to %s when it returned: a conference there would be split", r, n)
		}
	}
	fresh := map[string]int{}
	for i := 3380; i < 3390; i++ {
		fresh[c.roomHost(itoa(i))]++
	}
	if fresh[victim] == 0 {
		t.Fatalf("rooms 3380-3389 first called after %s returned all went to %s: %v", victim, survivor, fresh)
	}
	t.Logf("conference rooms: 10 placed on %s while %s was down stayed there after it returned; 10 new rooms hashed %v", survivor, victim, fresh)
}
