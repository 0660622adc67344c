package sip

import (
	"strings"
	"testing"

	"github.com/goswitch/goswitch/core/event"
)

func presenceEvent(kv ...string) *event.Event {
	e := &event.Event{Name: event.PresenceIn}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Add(kv[i], kv[i+1])
	}
	return e
}

// TestDialogFromEvent: sofia_presence.c's mapping of channel state to RFC 4235 dialog state,
// for the called phone (recipient) and the calling one (initiator).
func TestDialogFromEvent(t *testing.T) {
	for _, c := range []struct {
		name     string
		kv       []string
		dir, st  string
		remote   string
		held     bool
		previous *dialogState
	}{
		{"b-leg created", []string{"presence-call-direction", "outbound", "Answer-State", "ringing", "status", "CS_ROUTING", "Caller-Caller-ID-Number", "1000"}, "recipient", "trying", "1000", false, nil},
		{"b-leg ringing", []string{"presence-call-direction", "outbound", "Answer-State", "ringing", "status", "RINGING"}, "recipient", "early", "", false, nil},
		{"b-leg early media", []string{"presence-call-direction", "outbound", "Answer-State", "early", "status", "EARLY"}, "recipient", "early", "", false, nil},
		{"b-leg answered", []string{"presence-call-direction", "outbound", "Answer-State", "answered", "status", "answered"}, "recipient", "confirmed", "", false, nil},
		{"hung up", []string{"presence-call-direction", "outbound", "Answer-State", "hangup", "Channel-State", "CS_HANGUP", "status", "CS_HANGUP"}, "recipient", "terminated", "", false, nil},
		{"caller ringing shows busy", []string{"presence-call-direction", "inbound", "Caller-Username", "1000", "Answer-State", "ringing", "status", "CS_ROUTING", "Caller-Destination-Number", "1001"}, "initiator", "confirmed", "1001", false, nil},
		{"held call", []string{"presence-call-direction", "inbound", "Caller-Username", "1000", "Answer-State", "answered", "status", "hold"}, "initiator", "early", "", true, nil},
		{"unheld", []string{"presence-call-direction", "inbound", "Caller-Username", "1000", "Answer-State", "answered", "status", "unhold"}, "initiator", "confirmed", "", false, &dialogState{held: true}},
		{"internal inbound reversed", []string{"presence-call-direction", "inbound", "Caller-Username", "2000", "Caller-Caller-ID-Number", "2000", "Answer-State", "answered", "status", "answered"}, "recipient", "confirmed", "2000", false, nil},
	} {
		ds := &dialogState{}
		if c.previous != nil {
			ds = c.previous
		}
		dialogFromEvent(ds, presenceEvent(c.kv...), "1000")
		if ds.direction != c.dir || ds.state != c.st || ds.held != c.held || (c.remote != "" && ds.remote != c.remote) {
			t.Errorf("%s: got %+v", c.name, *ds)
		}
	}
}

// TestNotifyBodies: the three bodies as a phone reads them.
func TestNotifyBodies(t *testing.T) {
	ev := presenceEvent("MWI-Messages-Waiting", "yes", "MWI-Message-Account", "1001@example.com", "MWI-Voice-Message", "2/1 (1/0)", "Update-Reason", "NEW")
	if got, want := mwiBody(ev), "Messages-Waiting: yes\r\nMessage-Account: sip:1001@example.com\r\nVoice-Message: 2/1 (1/0)\r\n\r\n"; got != want {
		t.Errorf("mwi body %q, want %q", got, want)
	}
	st := accountState{dialogs: []dialogState{{id: "u1", direction: "recipient", state: "confirmed", remote: "1000", remoteName: "Alice"}}}
	x := dialogInfoXML("sip:1001@example.com", "1001", "example.com", st, 3)
	for _, w := range []string{`version="3" state="full" entity="sip:1001@example.com"`, `<dialog id="u1" direction="recipient">`,
		`<state>confirmed</state>`, `<identity display="Alice">sip:1000@example.com</identity>`, `pvalue="yes"`} {
		if !strings.Contains(x, w) {
			t.Errorf("dialog-info lacks %q:\n%s", w, x)
		}
	}
	for _, c := range []struct {
		st         accountState
		registered bool
		basic      string
		note       string
	}{
		{accountState{}, false, "closed", "Unregistered"},
		{accountState{}, true, "open", "Available"},
		{st, true, "open", "On The Phone"},
		{accountState{dialogs: []dialogState{{state: "early"}}}, true, "open", "Ringing"},
		{accountState{note: [2]string{"away", "Out to lunch"}, hasNote: true}, true, "closed", "Out to lunch"},
	} {
		p := pidfXML("sip:1001@example.com", "1001", c.st, c.registered)
		if !strings.Contains(p, "<basic>"+c.basic+"</basic>") || !strings.Contains(p, "<dm:note>"+c.note+"</dm:note>") {
			t.Errorf("pidf for %+v registered=%v:\n%s", c.st, c.registered, p)
		}
	}
}
