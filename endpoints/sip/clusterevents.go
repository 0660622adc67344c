package sip

import (
	"encoding/json"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/store"
)

// Cluster events. A voicemail left on node A changes the MWI of a phone whose connection node B
// holds: with a shared (PostgreSQL) store, every untargeted MESSAGE_WAITING a node sees on its
// bus is sent to the others with NOTIFY on mwiChannel (LISTEN/NOTIFY through pgx, see
// store.Listen), and each node turns it into NOTIFYs for the subscriptions and registrations
// it holds. Targeted events (answers to one MESSAGE_QUERY, carrying call-id or sub-call-id)
// stay local: the registration or subscription that asked is on the node that asked.

const mwiChannel = "goswitch_mwi"

// relayed is one event on the wire: the node that published it and its non-core headers.
type relayed struct {
	Node    string      `json:"node"`
	Headers [][2]string `json:"headers"`
}

// clustered reports whether this node shares its registrations with others.
func (e *Endpoint) clustered() bool { return e.db != nil && e.db.Backend() == store.Postgres }

// listenCluster delivers the other nodes' MESSAGE_WAITING events to this node's phones.
func (e *Endpoint) listenCluster() {
	if !e.clustered() {
		return
	}
	self := e.nodeName()
	e.db.Listen(mwiChannel, func(payload string) {
		var r relayed
		if err := json.Unmarshal([]byte(payload), &r); err != nil || r.Node == self {
			return
		}
		ev := e.h.Bus.New(event.MessageWaiting, "")
		for _, kv := range r.Headers {
			ev.Add(kv[0], kv[1])
		}
		e.messageWaiting(ev)
	})
}

// relayMWI sends a MESSAGE_WAITING published on this node to the other nodes.
func (e *Endpoint) relayMWI(ev *event.Event) {
	if !e.clustered() || ev.Get("sub-call-id") != "" || ev.Get("call-id") != "" {
		return
	}
	r := relayed{Node: e.nodeName()}
	for _, h := range ev.Headers {
		if !coreHeader(h.Name) {
			r.Headers = append(r.Headers, [2]string{h.Name, h.Value})
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	if err := e.db.Notify(mwiChannel, string(b)); err != nil {
		e.log.Warn("cluster: MWI not sent to the other nodes", "err", err)
	}
}

// heldElsewhere reports whether another node took reg (its rows are shared): that node sends
// it in-dialog and unsolicited requests, through the connection or Path it holds.
func (e *Endpoint) heldElsewhere(reg *Registration) bool {
	return e.clustered() && reg.Node != "" && reg.Node != e.nodeName()
}
