package sip

import (
	"context"
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

const (
	pidfContentType   = "application/pidf+xml"
	dialogContentType = "application/dialog-info+xml"
)

// presence turns channel events into FreeSWITCH's PRESENCE_IN (what switch_channel_presence
// fires on state changes of a channel with a presence_id) and PRESENCE_IN, from channels, the
// event socket or anywhere, into NOTIFYs for presence (PIDF, RFC 3863) and dialog (RFC 4235,
// BLF) subscribers. It keeps the calls of each presence_id so every NOTIFY carries the full
// state.
type presence struct {
	e *Endpoint

	mu      sync.Mutex
	dialogs map[string]map[string]*dialogState // account -> Unique-ID -> state
	notes   map[string][2]string               // account -> rpid, status of a PRESENCE_IN without a call
	counts  map[string]int                     // Unique-ID -> event_count
}

// dialogState is one call of a watched account.
type dialogState struct {
	id         string // the channel's Unique-ID
	direction  string // initiator (the account called) or recipient (the account is called)
	state      string // trying, early, confirmed, terminated
	remote     string // the other party's number
	remoteName string
	held       bool
	channel    bool // from a channel of this switch (not an event-socket PRESENCE_IN)
	seen       time.Time
}

func newPresence(e *Endpoint) *presence {
	return &presence{e: e, dialogs: map[string]map[string]*dialogState{}, notes: map[string][2]string{}, counts: map[string]int{}}
}

// presenceSources are the channel events that change what a BLF shows.
var presenceSources = map[string]bool{
	event.ChannelCreate: true, event.ChannelCallstate: true, event.ChannelHold: true, event.ChannelUnhold: true,
}

// run consumes the bus until ctx ends.
func (pr *presence) run(ctx context.Context) {
	names := []string{event.PresenceIn, event.MessageWaiting, event.Custom}
	for n := range presenceSources {
		names = append(names, n)
	}
	// Channel events matter only for channels with a presence id: calls without one are not
	// built into events for presence at all.
	sub := pr.e.h.Bus.SubscribeTo(event.Interest{Names: names, PresenceOnly: true}, func(ev *event.Event) bool {
		switch {
		case presenceSources[ev.Name]:
			return ev.Get("Channel-Presence-ID") != ""
		case ev.Name == event.PresenceIn, ev.Name == event.MessageWaiting:
			return true
		case ev.Name == event.Custom:
			return ev.Subclass == "sofia::register" || ev.Subclass == "sofia::unregister" || ev.Subclass == "sofia::expire"
		}
		return false
	}, 1024)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C():
			switch {
			case presenceSources[ev.Name]:
				pr.publishIn(ev)
			case ev.Name == event.PresenceIn:
				pr.presenceIn(ev)
				pr.e.relayPresence(ev)
			case ev.Name == event.MessageWaiting:
				pr.e.messageWaiting(ev)
				pr.e.relayMWI(ev)
			default:
				pr.e.registrationEvent(ev)
			}
		}
	}
}

// publishIn fires PRESENCE_IN for a channel event (switch_channel_presence's headers).
func (pr *presence) publishIn(ch *event.Event) {
	status := ""
	switch ch.Name {
	case event.ChannelCreate:
		status = "CS_ROUTING"
	case event.ChannelHold:
		status = "hold"
	case event.ChannelUnhold:
		status = "unhold"
	default:
		switch cs := ch.Get("Channel-Call-State"); cs {
		case "ACTIVE":
			status = "answered"
		case "HANGUP":
			status = "CS_HANGUP"
		case "DOWN":
			return
		default:
			status = cs
		}
	}
	uuid := ch.Get("Unique-ID")
	pr.mu.Lock()
	n := pr.counts[uuid]
	pr.counts[uuid] = n + 1
	if status == "CS_HANGUP" {
		delete(pr.counts, uuid)
	}
	pr.mu.Unlock()
	bus := pr.e.h.Bus
	e := bus.New(event.PresenceIn, "")
	for _, h := range ch.Headers {
		if !coreHeader(h.Name) {
			e.Add(h.Name, h.Value)
		}
	}
	e.Add("proto", "any")
	e.Add("login", "switch_channel.c")
	e.Add("from", ch.Get("Channel-Presence-ID"))
	e.Add("rpid", "unknown")
	e.Add("status", status)
	e.Add("event_type", "presence")
	e.Add("alt_event_type", "dialog")
	infoState := "active"
	switch {
	case status == "CS_HANGUP":
		infoState = "idle"
	case strings.HasPrefix(status, "hold"):
		infoState = "held"
	case ch.Get("Answer-State") != "answered":
		if ch.Get("Call-Direction") == "outbound" {
			infoState = "progressing"
		} else {
			infoState = "alerting"
		}
	}
	e.Add("presence-call-info-state", infoState)
	e.Add("presence-call-direction", ch.Get("Call-Direction"))
	e.Add("event_count", strconv.Itoa(n))
	bus.Publish(e)
}

func coreHeader(name string) bool {
	switch name {
	case "Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4", "FreeSWITCH-IPv6",
		"Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp", "Event-Calling-File", "Event-Calling-Function",
		"Event-Calling-Line-Number", "Event-Sequence", "Event-Subclass", "Original-Channel-Call-State", "Channel-Call-State-Number":
		return true
	}
	return false
}

// presenceIn updates the account's state from a PRESENCE_IN and notifies its watchers.
func (pr *presence) presenceIn(ev *event.Event) {
	acct := strings.ToLower(strings.TrimPrefix(ev.Get("from"), "sip:"))
	user, _, ok := strings.Cut(acct, "@")
	if !ok || user == "" {
		return
	}
	uuid := ev.Get("Unique-ID")
	pr.mu.Lock()
	if uuid == "" {
		pr.notes[acct] = [2]string{ev.Get("rpid"), ev.Get("status")}
	} else {
		d := pr.dialogs[acct]
		if d == nil {
			d = map[string]*dialogState{}
			pr.dialogs[acct] = d
		}
		ds := d[uuid]
		fresh := ds == nil
		if fresh {
			ds = &dialogState{id: uuid}
			d[uuid] = ds
		}
		before := *ds
		dialogFromEvent(ds, ev, user)
		same := *ds == before
		ds.channel, ds.seen = ev.Get("Channel-Name") != "", time.Now()
		if !fresh && same {
			// Nothing a watcher sees changed (two call-state events in the same dialog
			// state): no NOTIFY.
			pr.mu.Unlock()
			return
		}
	}
	pr.mu.Unlock()
	pr.flush(acct)
}

// dialogFromEvent applies sofia_presence.c's mapping of a channel's state to a dialog state:
// an answered call is confirmed, a ringing one early for the called party (recipient) and
// confirmed for the caller (initiator, so the caller's BLF shows busy), a hung-up one
// terminated; hold keeps early (FreeSWITCH's default pres-hold-state).
func dialogFromEvent(ds *dialogState, ev *event.Event, user string) {
	dir := ev.Get("presence-call-direction")
	if dir == "" {
		dir = ev.Get("Call-Direction")
	}
	// An inbound channel whose caller is someone else is internal to the switch (presence_id
	// set in the dialplan): the direction is reversed, as sofia_presence_sub_callback does.
	if dir == "inbound" && !strings.EqualFold(ev.Get("Caller-Username"), user) && !strings.EqualFold(ev.Get("Caller-Caller-ID-Number"), user) {
		dir = "outbound"
	}
	if dir == "outbound" {
		ds.direction = "recipient"
		ds.remote = firstOf(ev.Get("Caller-Caller-ID-Number"), ev.Get("Other-Leg-Caller-ID-Number"))
		ds.remoteName = firstOf(ev.Get("Caller-Caller-ID-Name"), ev.Get("Other-Leg-Caller-ID-Name"))
	} else {
		ds.direction = "initiator"
		ds.remote = ev.Get("Caller-Destination-Number")
		ds.remoteName = ds.remote
	}
	status := ev.Get("status")
	switch {
	case strings.HasPrefix(status, "hold"):
		ds.held = true
	case status == "unhold":
		ds.held = false
	}
	state := ev.Get("Answer-State")
	if strings.EqualFold(ev.Get("Channel-State"), "CS_HANGUP") || status == "CS_HANGUP" {
		state = "hangup"
	}
	switch state {
	case "answered":
		ds.state = "confirmed"
	case "hangup":
		ds.state = "terminated"
	case "early", "ringing", "":
		if ds.direction == "recipient" {
			ds.state = "early"
			if status == "CS_ROUTING" && state == "ringing" {
				ds.state = "trying" // the INVITE to the phone is out, nothing back yet
			}
		} else {
			ds.state = "confirmed"
		}
	default:
		ds.state = state
	}
	if ds.held && ds.state == "confirmed" {
		ds.state = "early"
	}
}

// prune ends the dialogs of channels that are gone without their hangup reaching us (the bus
// drops events for a full queue), so a BLF never stays lit.
func (pr *presence) prune(now time.Time) {
	var accts []string
	pr.mu.Lock()
	for acct, d := range pr.dialogs {
		ended := false
		for id, ds := range d {
			if ds.channel && ds.state != "terminated" && now.Sub(ds.seen) > 5*time.Second {
				if _, live := pr.e.h.Session(id); !live {
					ds.state, ended = "terminated", true
				}
			}
		}
		if ended {
			accts = append(accts, acct)
		}
	}
	pr.mu.Unlock()
	for _, acct := range accts {
		pr.flush(acct)
	}
}

// flush notifies the watchers of acct of its state; dialogs that ended are reported once, then
// forgotten.
func (pr *presence) flush(acct string) {
	pr.mu.Lock()
	snap := pr.snapshotLocked(acct)
	for id, ds := range pr.dialogs[acct] {
		if ds.state == "terminated" {
			delete(pr.dialogs[acct], id)
		}
	}
	if len(pr.dialogs[acct]) == 0 {
		delete(pr.dialogs, acct)
	}
	pr.mu.Unlock()
	user, host, _ := strings.Cut(acct, "@")
	pr.notify(user, host, snap)
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// accountState is what a NOTIFY reports for one account.
type accountState struct {
	dialogs []dialogState
	note    [2]string
	hasNote bool
}

func (pr *presence) snapshotLocked(acct string) accountState {
	var st accountState
	for _, ds := range pr.dialogs[acct] {
		st.dialogs = append(st.dialogs, *ds)
	}
	sort.Slice(st.dialogs, func(i, j int) bool { return st.dialogs[i].id < st.dialogs[j].id })
	st.note, st.hasNote = pr.notes[acct]
	return st
}

func (pr *presence) snapshot(user, host string) accountState {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.snapshotLocked(strings.ToLower(user + "@" + host))
}

// notify queues a NOTIFY with st to every watcher of user@host of the packages (default:
// dialog and presence).
func (pr *presence) notify(user, host string, st accountState, pkgs ...string) {
	if len(pkgs) == 0 {
		pkgs = []string{"dialog", "presence"}
	}
	for _, pkg := range pkgs {
		for _, s := range pr.e.subs.match(pkg, user, host) {
			p, ok := pr.e.Profile(s.Profile)
			if !ok {
				continue
			}
			p.queueNotify(s, notifyJob{build: func(s *Subscription, version int) (string, string) {
				return pr.body(s, st, version)
			}})
		}
	}
}

// render is the current state of s's resource as a NOTIFY body.
func (pr *presence) render(s *Subscription, version int) (string, string) {
	return pr.body(s, pr.snapshot(s.ToUser, s.ToHost), version)
}

func (pr *presence) body(s *Subscription, st accountState, version int) (string, string) {
	entity := "sip:" + s.ToUser + "@" + s.ToHost
	if s.Event == "dialog" {
		return dialogContentType, dialogInfoXML(entity, s.ToUser, s.ToHost, st, version)
	}
	registered := len(pr.e.regs.lookup(s.ToUser, s.ToHost)) > 0
	return pidfContentType, pidfXML(entity, s.ToUser, st, registered)
}

// dialogInfoXML renders a full dialog-info document (RFC 4235), in the shape FreeSWITCH
// sends: local = the watched account, remote = the other party.
func dialogInfoXML(entity, user, host string, st accountState, version int) string {
	var b strings.Builder
	x := html.EscapeString
	fmt.Fprintf(&b, "<?xml version=\"1.0\"?>\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"%d\" state=\"full\" entity=\"%s\">\n", version, x(entity))
	for _, d := range st.dialogs {
		fmt.Fprintf(&b, "<dialog id=\"%s\" direction=\"%s\">\n<state>%s</state>\n", x(d.id), d.direction, d.state)
		if d.state != "terminated" && d.remote != "" {
			rendering := "yes"
			if d.held {
				rendering = "no"
			}
			fmt.Fprintf(&b, "<local>\n<identity display=\"%s\">sip:%s@%s</identity>\n<target uri=\"sip:%s@%s\">\n<param pname=\"+sip.rendering\" pvalue=\"%s\"/>\n</target>\n</local>\n",
				x(user), x(user), x(host), x(user), x(host), rendering)
			fmt.Fprintf(&b, "<remote>\n<identity display=\"%s\">sip:%s@%s</identity>\n<target uri=\"sip:**%s@%s\"/>\n</remote>\n",
				x(firstOf(d.remoteName, d.remote)), x(d.remote), x(host), x(user), x(host))
		}
		b.WriteString("</dialog>\n")
	}
	b.WriteString("</dialog-info>\n")
	return b.String()
}

// pidfXML renders presence (RFC 3863 with RPID, RFC 4480): open while registered or in a call,
// with FreeSWITCH's notes ("On The Phone", "Ringing", "Available", "Unregistered").
func pidfXML(entity, user string, st accountState, registered bool) string {
	basic, note, activity := "closed", "Unregistered", ""
	if registered {
		basic, note = "open", "Available"
	}
	if st.hasNote {
		rpid, status := st.note[0], st.note[1]
		if status != "" {
			note = status
		}
		switch strings.ToLower(rpid) {
		case "unavailable", "away":
			basic = "closed"
		default:
			basic = "open"
		}
	}
	for _, d := range st.dialogs {
		switch d.state {
		case "confirmed":
			basic, note, activity = "open", "On The Phone", "on-the-phone"
		case "early", "trying":
			if activity == "" {
				basic, note, activity = "open", "Ringing", "busy"
			}
		}
	}
	x := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"%s\">\n", x(entity))
	fmt.Fprintf(&b, "<tuple id=\"t%s\">\n<status><basic>%s</basic></status>\n<note>%s</note>\n</tuple>\n", x(user), basic, x(note))
	fmt.Fprintf(&b, "<dm:person id=\"p%s\">\n", x(user))
	if activity != "" {
		fmt.Fprintf(&b, "<rpid:activities><rpid:%s/></rpid:activities>\n", activity)
	}
	fmt.Fprintf(&b, "<dm:note>%s</dm:note>\n</dm:person>\n</presence>\n", x(note))
	return b.String()
}
