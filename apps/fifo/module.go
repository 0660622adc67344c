package fifo

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/xmlconf"
)

const moduleName = "mod_fifo"

// eventSubclass is FreeSWITCH's FIFO_EVENT.
const eventSubclass = "fifo::info"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: newModule})
	core.RegisterApp(core.AppInfo{Name: "fifo", Module: moduleName,
		Syntax: "<fifo name>[!<importance_number>] [in [<announce file>|undef] [<music file>|undef] | out [wait|nowait] [<announce file>|undef] [<music file>|undef]]",
		Short:  "Park with FIFO", App: core.AppFunc(fifoApp)})
	core.RegisterAPI(core.APIInfo{Name: "fifo", Module: moduleName,
		Syntax: "list|list_verbose|count|debug|status|has_outbound|importance [<fifo name>]|reparse",
		Short:  "Return data about a fifo", Fn: apiFifo})
	core.RegisterAPI(core.APIInfo{Name: "fifo_member", Module: moduleName,
		Syntax: "[add <fifo_name> <originate_string> [<simo_count>] [<timeout>] [<lag>] [<expires>] [<taking_calls>] | del <fifo_name> <originate_string>]",
		Short:  "Add members to a fifo", Fn: apiMember})
}

// module is mod_fifo's per-host state.
type module struct {
	h  *core.Host
	db *fifoDB

	mu      sync.Mutex
	nodes   map[string]*node
	changed chan struct{} // closed and replaced whenever a caller is queued

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newModule(h *core.Host) (any, error) {
	db, err := openDB(h)
	if err != nil {
		return nil, err
	}
	m := &module{h: h, db: db, nodes: map[string]*node{}, changed: make(chan struct{})}
	m.loadConfig(h.Config(), false)
	return m, nil
}

func moduleFor(h *core.Host) *module {
	v, _ := h.Module(moduleName)
	m, _ := v.(*module)
	return m
}

// Start runs the outbound-member dialler (FreeSWITCH's node thread).
func (m *module) Start(ctx context.Context) error {
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.dialLoop(ctx)
	}()
	return nil
}

// Stop ends the dialler, waits for calls to members that are still ringing and closes the
// database.
func (m *module) Stop(ctx context.Context) error {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	m.db.close(ctx)
	return nil
}

// Reload re-reads fifo.conf's static queues and members (FreeSWITCH's "fifo reparse").
func (m *module) Reload(snap *xmlconf.Snapshot) error {
	m.loadConfig(snap, true)
	return nil
}

// loadConfig creates fifo.conf's queues and replaces their static members.
func (m *module) loadConfig(snap *xmlconf.Snapshot, reload bool) {
	if snap == nil {
		return
	}
	conf := snap.Configuration("fifo.conf")
	if conf == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range conf.FindElements("fifos/fifo") {
		name := f.SelectAttrValue("name", "")
		if name == "" {
			continue
		}
		imp, _ := strconv.Atoi(f.SelectAttrValue("importance", "0"))
		n := m.nodes[name]
		if n == nil {
			n = newNode(name, max(imp, 0))
			m.nodes[name] = n
		} else if reload {
			n.importance = max(imp, 0)
		}
		n.static = true
		kept := n.members[:0]
		for _, mb := range n.members {
			if !mb.static {
				kept = append(kept, mb)
			}
		}
		n.members = kept
		for _, me := range f.SelectElements("member") {
			dial := strings.TrimSpace(me.Text())
			if dial == "" {
				continue
			}
			mb := newMember(dial, me.SelectAttrValue("simo", "1"), me.SelectAttrValue("timeout", "60"), me.SelectAttrValue("lag", "5"))
			mb.static = true
			n.members = append(n.members, mb)
		}
	}
}

// nodeLocked returns (creating it) the queue name, with m.mu held; importance is set only on
// creation, as FreeSWITCH. Callers look queues up and change them in one critical
// section, so gc never drops a queue between the two.
func (m *module) nodeLocked(name string, importance int) *node {
	n := m.nodes[name]
	if n == nil {
		n = newNode(name, importance)
		m.nodes[name] = n
	}
	return n
}

// existing returns the queues of names that exist, with m.mu held.
func (m *module) existing(names []string) []*node {
	out := make([]*node, 0, len(names))
	for _, name := range names {
		if n := m.nodes[name]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

// notify wakes waiting consumers and the dialler. Call with m.mu held.
func (m *module) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// wake returns the channel the next notify closes.
func (m *module) wake() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// gc drops empty dynamic queues nobody consumes from.
func (m *module) gc(n *node) {
	if !n.static && n.callerCount() == 0 && len(n.consumers) == 0 && len(n.members) == 0 && n.ringing == 0 {
		if m.nodes[n.name] == n {
			delete(m.nodes, n.name)
		}
	}
}

// fire publishes a fifo::info event about s.
func fire(s *core.Session, fifo, action string, extra ...string) {
	e := s.NewEvent(event.Custom, eventSubclass)
	e.Add("FIFO-Name", fifo)
	e.Add("FIFO-Action", action)
	for i := 0; i+1 < len(extra); i += 2 {
		e.Add(extra[i], extra[i+1])
	}
	s.Host().Bus.Publish(e)
}

func stamp(s *core.Session, status string) {
	s.SetVar("fifo_status", status)
	s.SetVar("fifo_timestamp", time.Now().Format("2006-01-02 15:04:05"))
}
