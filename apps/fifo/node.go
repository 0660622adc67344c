package fifo

import (
	"sort"
	"time"

	"github.com/goswitch/goswitch/core"
)

// maxPri is FreeSWITCH's MAX_PRI: fifo_priority 0..9, 0 popped first.
const maxPri = 10

// caller is one queued channel.
type caller struct {
	s     *core.Session
	pri   int
	since time.Time
}

// node is one named queue (FreeSWITCH's fifo_node).
type node struct {
	name       string
	importance int
	static     bool // from fifo.conf: kept when empty

	queues    [maxPri][]*caller
	consumers map[*core.Session]bool // waiting ("out wait") consumers
	waitStart time.Time              // when the oldest queued caller arrived
	members   []*member
	ringing   int
}

func newNode(name string, importance int) *node {
	return &node{name: name, importance: importance, consumers: map[*core.Session]bool{}}
}

func (n *node) callerCount() int {
	t := 0
	for i := range n.queues {
		t += len(n.queues[i])
	}
	return t
}

func (n *node) push(c *caller) {
	if n.callerCount() == 0 {
		n.waitStart = c.since
	}
	n.queues[c.pri] = append(n.queues[c.pri], c)
}

// pop takes the first caller of the highest priority; order lists the priorities to look at
// (fifo_pop_order), nil for 0..9.
func (n *node) pop(order []int) *caller {
	if order == nil {
		order = allPri
	}
	for _, p := range order {
		if q := n.queues[p]; len(q) > 0 {
			c := q[0]
			n.queues[p] = q[1:]
			n.resetStart()
			return c
		}
	}
	return nil
}

var allPri = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// remove takes c out of its queue; it reports whether c was still queued.
func (n *node) remove(c *caller) bool {
	q := n.queues[c.pri]
	for i, x := range q {
		if x == c {
			n.queues[c.pri] = append(q[:i:i], q[i+1:]...)
			n.resetStart()
			return true
		}
	}
	return false
}

func (n *node) resetStart() {
	var oldest time.Time
	for _, q := range n.queues {
		for _, c := range q {
			if oldest.IsZero() || c.since.Before(oldest) {
				oldest = c.since
			}
		}
	}
	n.waitStart = oldest
}

// callers returns the queued callers in the order they would be served.
func (n *node) callers() []*caller {
	var out []*caller
	for _, q := range n.queues {
		out = append(out, q...)
	}
	return out
}

// idleConsumers counts waiting consumers that are not talking to a caller.
func (n *node) idleConsumers() int {
	t := 0
	for s := range n.consumers {
		if s.Peer() == nil {
			t++
		}
	}
	return t
}

// pickNode chooses, among nodes with callers, the one a consumer serves next: the most important,
// and among equals the one whose oldest caller waited longest (strategy waiting_longer) or the
// one with the most callers (more_ppl). FreeSWITCH's consumer loop.
func pickNode(nodes []*node, morePeople bool) *node {
	var win *node
	for _, n := range nodes {
		cnt := n.callerCount()
		if cnt == 0 {
			continue
		}
		switch {
		case win == nil, n.importance > win.importance:
			win = n
		case n.importance < win.importance:
		case morePeople && cnt > win.callerCount():
			win = n
		case !morePeople && n.waitStart.Before(win.waitStart):
			win = n
		}
	}
	return win
}

func sortedNames(m map[string]*node) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
