package fifo

import (
	"context"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

func apiFifo(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	m := moduleFor(h)
	if m == nil {
		_, err := io.WriteString(w, "-ERR "+moduleName+" is not loaded\n")
		return err
	}
	f := strings.Fields(args)
	if len(f) == 0 {
		_, err := io.WriteString(w, "-USAGE: list|list_verbose|count|debug|status|has_outbound|importance [<fifo name>]|reparse\n")
		return err
	}
	want := ""
	if len(f) > 1 {
		want = f[1]
	}
	// Stored members belong to every node sharing the database: their queues are listed here
	// even before a caller of this node has created them.
	stored, err := m.db.members(ctx, nil)
	if err != nil {
		_, err := io.WriteString(w, "-ERR "+err.Error()+"\n")
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nodes := map[string]*node{}
	for name, n := range m.nodes {
		nodes[name] = n
	}
	for name := range stored {
		if nodes[name] == nil {
			nodes[name] = newNode(name, 0)
		}
	}
	var names []string
	for _, n := range sortedNames(nodes) {
		if want == "" || n == want {
			names = append(names, n)
		}
	}
	members := func(n *node) []*member { return append(append([]*member(nil), n.members...), stored[n.name]...) }
	var b strings.Builder
	switch strings.ToLower(f[0]) {
	case "list", "list_verbose":
		b.WriteString("<fifo_report>\n")
		for _, name := range names {
			writeNode(&b, nodes[name], members(nodes[name]), f[0] == "list_verbose")
		}
		b.WriteString("</fifo_report>\n")
	case "count":
		if want != "" && len(names) == 0 {
			fmt.Fprintf(&b, "%s:0:0:0:0:0\n", want)
		}
		for _, name := range names {
			n := nodes[name]
			// name:consumer_count:caller_count:member_count:ring_count:idle_count
			fmt.Fprintf(&b, "%s:%d:%d:%d:%d:%d\n", n.name, len(n.consumers), n.callerCount(),
				len(members(n)), n.ringing, n.idleConsumers())
		}
	case "has_outbound":
		for _, name := range names {
			fmt.Fprintf(&b, "%s:%d\n", name, len(members(nodes[name])))
		}
	case "importance":
		for _, name := range names {
			fmt.Fprintf(&b, "%s:%d\n", name, nodes[name].importance)
		}
	case "reparse":
		m.mu.Unlock()
		m.loadConfig(h.Config(), true)
		m.mu.Lock()
		b.WriteString("+OK\n")
	case "debug", "status":
		fmt.Fprintf(&b, "+OK %d fifos\n", len(m.nodes))
	default:
		b.WriteString("-ERR Usage: list|list_verbose|count|debug|status|has_outbound|importance [<fifo name>]|reparse\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func writeNode(b *strings.Builder, n *node, members []*member, verbose bool) {
	fmt.Fprintf(b, "  <fifo name=\"%s\" consumer_count=\"%d\" caller_count=\"%d\" waiting_count=\"%d\" importance=\"%d\" outbound_count=\"%d\" ring_count=\"%d\">\n",
		html.EscapeString(n.name), len(n.consumers), n.callerCount(), n.callerCount(), n.importance, len(members), n.ringing)
	b.WriteString("    <callers>\n")
	for i, c := range n.callers() {
		p := c.s.Profile()
		fmt.Fprintf(b, "      <caller uuid=\"%s\" status=\"WAITING\" position=\"%d\" slot=\"%d\" timestamp=\"%s\" caller_id_name=\"%s\" caller_id_number=\"%s\"",
			c.s.UUID(), i+1, c.pri, c.since.Format("2006-01-02 15:04:05"), html.EscapeString(p.CallerIDName), html.EscapeString(p.CallerIDNumber))
		if verbose {
			fmt.Fprintf(b, " waited_ms=\"%d\"", time.Since(c.since).Milliseconds())
		}
		b.WriteString("/>\n")
	}
	b.WriteString("    </callers>\n    <consumers>\n")
	for s := range n.consumers {
		st := "WAITING"
		if s.Peer() != nil {
			st = "TALKING"
		}
		fmt.Fprintf(b, "      <consumer uuid=\"%s\" status=\"%s\"/>\n", s.UUID(), st)
	}
	b.WriteString("    </consumers>\n    <outbound>\n")
	for _, mb := range members {
		fmt.Fprintf(b, "      <member simo=\"%d\" use_count=\"%d\" timeout=\"%d\" lag=\"%d\" outbound_call_count=\"%d\" outbound_fail_count=\"%d\">%s</member>\n",
			mb.simo, mb.inUse, int(mb.timeout/time.Second), int(mb.lag/time.Second), mb.calls, mb.fails, html.EscapeString(mb.dial))
	}
	b.WriteString("    </outbound>\n  </fifo>\n")
}

func apiMember(_ context.Context, h *core.Host, args string, w io.Writer) error {
	m := moduleFor(h)
	if m == nil {
		_, err := io.WriteString(w, "-ERR "+moduleName+" is not loaded\n")
		return err
	}
	f := strings.Fields(args)
	if len(f) < 3 {
		_, err := io.WriteString(w, "-USAGE: add <fifo_name> <originate_string> [<simo_count>] [<timeout>] [<lag>] [<expires>] [<taking_calls>] | del <fifo_name> <originate_string>\n")
		return err
	}
	var out string
	switch strings.ToLower(f[0]) {
	case "add":
		if err := m.addMember(f[1], f[2], f[3:]); err != nil {
			out = "-ERR " + err.Error() + "\n"
			break
		}
		m.mu.Lock()
		m.notify()
		m.mu.Unlock()
		out = "+OK\n"
	case "del":
		switch ok, err := m.delMember(f[1], f[2]); {
		case err != nil:
			out = "-ERR " + err.Error() + "\n"
		case ok:
			out = "+OK\n"
		default:
			out = "-ERR no such member\n"
		}
	default:
		out = "-ERR Usage: add|del\n"
	}
	_, err := io.WriteString(w, out)
	return err
}
