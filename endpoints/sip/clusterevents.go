package sip

import (
	"encoding/json"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/store"
)

// Cluster events. A voicemail left on node A changes the MWI of a phone whose connection node B
// holds, and a call on node A lights the BLF of a watcher subscribed on node B: with a shared
// (PostgreSQL) store, every untargeted MESSAGE_WAITING and every PRESENCE_IN a node sees on its
// bus is sent to the others with NOTIFY on mwiChannel / presenceChannel (LISTEN/NOTIFY through
// pgx, see store.Listen), and each node turns it into NOTIFYs for the subscriptions and
// registrations it holds. Targeted MWI (answers to one MESSAGE_QUERY, carrying call-id or
// sub-call-id) stays local: the registration or subscription that asked is on the node that
// asked. Relayed events are not put on the receiving node's bus, so they never travel back.

const (
	mwiChannel      = "goswitch_mwi"
	presenceChannel = "goswitch_presence"
)

// relayed is one event on the wire: the node that published it and its non-core headers.
type relayed struct {
	Node    string      `json:"node"`
	Headers [][2]string `json:"headers"`
}

// clustered reports whether this node shares its registrations with others.
func (e *Endpoint) clustered() bool { return e.db != nil && e.db.Backend() == store.Postgres }

// listenCluster delivers the other nodes' MWI and presence to this node's phones.
func (e *Endpoint) listenCluster() {
	if !e.clustered() {
		return
	}
	e.listenRelay(mwiChannel, event.MessageWaiting, e.messageWaiting)
	e.listenRelay(presenceChannel, event.PresenceIn, func(ev *event.Event) {
		// Channel-Name is not relayed: the channel is another node's, and this node's prune
		// must not end it as gone.
		e.presence.presenceIn(ev)
	})
}

func (e *Endpoint) listenRelay(channel, name string, deliver func(*event.Event)) {
	self := e.nodeName()
	e.db.Listen(channel, func(payload string) {
		var r relayed
		if err := json.Unmarshal([]byte(payload), &r); err != nil || r.Node == self {
			return
		}
		ev := e.h.Bus.New(name, "")
		for _, kv := range r.Headers {
			ev.Add(kv[0], kv[1])
		}
		deliver(ev)
	})
}

// relayMWI sends a MESSAGE_WAITING published on this node to the other nodes.
func (e *Endpoint) relayMWI(ev *event.Event) {
	if ev.Get("sub-call-id") != "" || ev.Get("call-id") != "" {
		return
	}
	e.relay(mwiChannel, ev, func(string) bool { return true })
}

// presenceHeaders are the PRESENCE_IN headers presenceIn reads: a channel's event carries
// many more, and a PostgreSQL notification holds at most 8000 bytes.
var presenceHeaders = map[string]bool{
	"from": true, "Unique-ID": true, "rpid": true, "status": true, "presence-call-direction": true,
	"Call-Direction": true, "Caller-Username": true, "Caller-Caller-ID-Number": true,
	"Caller-Caller-ID-Name": true, "Caller-Destination-Number": true, "Other-Leg-Caller-ID-Number": true,
	"Other-Leg-Caller-ID-Name": true, "Answer-State": true, "Channel-State": true,
}

// relayPresence sends a PRESENCE_IN seen on this node to the other nodes.
func (e *Endpoint) relayPresence(ev *event.Event) {
	e.relay(presenceChannel, ev, func(name string) bool { return presenceHeaders[name] })
}

// relay sends ev's non-core headers that keep accepts to the other nodes on channel.
func (e *Endpoint) relay(channel string, ev *event.Event, keep func(string) bool) {
	if !e.clustered() {
		return
	}
	r := relayed{Node: e.nodeName()}
	for _, h := range ev.Headers {
		if !coreHeader(h.Name) && keep(h.Name) {
			r.Headers = append(r.Headers, [2]string{h.Name, h.Value})
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	if err := e.db.Notify(channel, string(b)); err != nil {
		e.log.Warn("cluster: event not sent to the other nodes", "channel", channel, "err", err)
	}
}

// heldElsewhere reports whether another node took reg (its rows are shared): that node sends
// it in-dialog and unsolicited requests, through the connection or Path it holds.
func (e *Endpoint) heldElsewhere(reg *Registration) bool {
	return e.clustered() && reg.Node != "" && reg.Node != e.nodeName()
}
