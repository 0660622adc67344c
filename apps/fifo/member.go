package fifo

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

// member is an outbound member of a queue: a dial string goswitch calls when callers wait
// (FreeSWITCH's fifo_outbound row).
type member struct {
	dial    string
	simo    int           // calls at once
	timeout time.Duration // answer timeout
	lag     time.Duration // rest after each call
	expires time.Time     // zero: never
	static  bool          // from fifo.conf

	inUse     int
	nextAvail time.Time
	calls     int
	fails     int
}

func newMember(dial, simo, timeout, lag string) *member {
	atoi := func(v string, def int) int {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return n
		}
		return def
	}
	return &member{dial: dial, simo: max(atoi(simo, 1), 1),
		timeout: time.Duration(max(atoi(timeout, 60), 1)) * time.Second,
		lag:     time.Duration(atoi(lag, 5)) * time.Second}
}

// dialLoop calls members of queues whose callers outnumber their idle consumers and the members
// already ringing, once a second and whenever a caller is queued.
func (m *module) dialLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		m.placeCalls(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.wake():
		}
	}
}

type dialJob struct {
	n *node
	m *member
}

func (m *module) placeCalls(ctx context.Context) {
	now := time.Now()
	var jobs []dialJob
	m.mu.Lock()
	for _, name := range sortedNames(m.nodes) {
		n := m.nodes[name]
		kept := n.members[:0]
		for _, mb := range n.members {
			if mb.expires.IsZero() || now.Before(mb.expires) || mb.inUse > 0 {
				kept = append(kept, mb)
			}
		}
		n.members = kept
		need := n.callerCount() - n.idleConsumers() - n.ringing
		if need <= 0 || len(n.members) == 0 {
			continue
		}
		cands := append([]*member(nil), n.members...)
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].calls < cands[j].calls })
		for _, mb := range cands {
			if need == 0 {
				break
			}
			if mb.inUse >= mb.simo || now.Before(mb.nextAvail) || !mb.expires.IsZero() && !now.Before(mb.expires) {
				continue
			}
			mb.inUse++
			n.ringing++
			need--
			jobs = append(jobs, dialJob{n, mb})
		}
	}
	m.mu.Unlock()
	for _, j := range jobs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.callMember(ctx, j.n, j.m)
		}()
	}
}

// callMember dials one member; answered, it runs "fifo <queue> out <fifo_member_wait>" and its use
// ends with its channel.
func (m *module) callMember(ctx context.Context, n *node, mb *member) {
	leg, err := m.h.Originate(ctx, mb.dial, core.OriginateOptions{
		Timeout: mb.timeout, CallerIDName: "FIFO", CallerIDNumber: n.name,
		Vars: core.DialVars{{"fifo_outbound_call", "true"}, {"fifo_name", n.name}},
	})
	m.mu.Lock()
	n.ringing--
	if err != nil {
		mb.inUse--
		mb.fails++
		mb.nextAvail = time.Now().Add(mb.lag)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	wait := strings.ToLower(leg.Var("fifo_member_wait"))
	if wait == "" {
		wait = strings.ToLower(leg.Var("member_wait"))
	}
	if wait != "wait" {
		wait = "nowait"
	}
	leg.ExecuteActions([]core.Action{{App: "fifo", Data: n.name + " out " + wait}})
	select {
	case <-leg.Done():
	case <-ctx.Done():
		leg.Hangup(core.CauseSystemShutdown)
		<-leg.Done()
	}
	m.mu.Lock()
	mb.inUse--
	mb.calls++
	mb.nextAvail = time.Now().Add(mb.lag)
	m.gc(n)
	m.mu.Unlock()
}

// addMember is "fifo_member add".
func (m *module) addMember(name, dial string, f []string) {
	get := func(i int, def string) string {
		if i < len(f) {
			return f[i]
		}
		return def
	}
	mb := newMember(dial, get(0, "1"), get(1, "60"), get(2, "5"))
	if exp, err := strconv.Atoi(get(3, "0")); err == nil && exp > 0 {
		mb.expires = time.Now().Add(time.Duration(exp) * time.Second)
	}
	n := m.node(name, 0)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range n.members {
		if x.dial == dial {
			mb.inUse, mb.calls, mb.fails, mb.nextAvail = x.inUse, x.calls, x.fails, x.nextAvail
			n.members[i] = mb
			return
		}
	}
	n.members = append(n.members, mb)
}

// delMember is "fifo_member del"; it reports whether the member existed.
func (m *module) delMember(name, dial string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.nodes[name]
	if n == nil {
		return false
	}
	for i, x := range n.members {
		if x.dial == dial {
			n.members = append(n.members[:i], n.members[i+1:]...)
			m.gc(n)
			return true
		}
	}
	return false
}
