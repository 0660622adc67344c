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
	stored  bool          // a fifo_outbound row: counters are the database's

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

// placeCalls dials, for each queue whose callers outnumber its idle consumers and ringing
// members, that many of its members: fifo.conf's (in memory) and the stored ones (shared by the
// nodes), those with the fewest calls first.
func (m *module) placeCalls(ctx context.Context) {
	now := time.Now()
	var short []string
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
		if n.callerCount()-n.idleConsumers()-n.ringing > 0 {
			short = append(short, name)
		}
	}
	m.mu.Unlock()
	if len(short) == 0 {
		return
	}
	stored, err := m.db.members(ctx, short)
	if err != nil && ctx.Err() == nil {
		m.h.Log.Warn("fifo: reading outbound members", "error", err)
	}
	var jobs []dialJob
	m.mu.Lock()
	for _, name := range short {
		n := m.nodes[name]
		if n == nil {
			continue
		}
		need := n.callerCount() - n.idleConsumers() - n.ringing
		cands := append(append([]*member(nil), n.members...), stored[name]...)
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].calls < cands[j].calls })
		for _, mb := range cands {
			if need <= 0 {
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
// ends with its channel. A stored member's slot is claimed in the database first: another node
// may have taken the last one since the list was read.
func (m *module) callMember(ctx context.Context, n *node, mb *member) {
	if mb.stored {
		if ok, err := m.db.claim(ctx, n.name, mb.dial); !ok {
			if err != nil && ctx.Err() == nil {
				m.h.Log.Warn("fifo: claiming an outbound member", "member", mb.dial, "error", err)
			}
			m.mu.Lock()
			n.ringing--
			m.gc(n)
			m.mu.Unlock()
			return
		}
	}
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
		m.gc(n)
		m.mu.Unlock()
		if mb.stored {
			m.db.release(n.name, mb.dial, false, mb.lag)
		}
		return
	}
	m.mu.Unlock()
	if mb.stored {
		m.db.answered(n.name, mb.dial)
	}
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
	if mb.stored {
		m.db.release(n.name, mb.dial, true, mb.lag)
	}
}

// addMember is "fifo_member add": the member goes to the database, where every node sharing it
// finds it.
func (m *module) addMember(name, dial string, f []string) error {
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
	return m.db.addMember(name, mb)
}

// delMember is "fifo_member del"; it reports whether the member existed.
func (m *module) delMember(name, dial string) (bool, error) {
	return m.db.delMember(name, dial)
}
