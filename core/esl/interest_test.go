package esl_test

import (
	"testing"

	"github.com/goswitch/goswitch/core/event"
)

// The bus builds channel events only for what a listener asked for: a connection listening for
// CHANNEL_ANSWER does not make the switch build CHANNEL_CREATE, ALL makes it build everything,
// and noevents stops it again.
func TestListenerInterestReachesBus(t *testing.T) {
	e := newEnv(t)
	bus := e.h.Bus
	if bus.WantsChannel(event.ChannelCreate, false) {
		t.Fatal("CHANNEL_CREATE wanted before any listener")
	}
	r := e.dialRaw(t)
	r.auth()
	r.send("event plain CHANNEL_ANSWER\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	if !bus.WantsChannel(event.ChannelAnswer, false) || bus.WantsChannel(event.ChannelCreate, false) {
		t.Errorf("after event CHANNEL_ANSWER: answer %v create %v", bus.WantsChannel(event.ChannelAnswer, false),
			bus.WantsChannel(event.ChannelCreate, false))
	}
	r.send("event plain ALL\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	if !bus.WantsChannel(event.ChannelCreate, false) {
		t.Error("after event ALL: CHANNEL_CREATE not wanted")
	}
	r.send("noevents\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK no longer listening for events\n\n")
	if bus.WantsChannel(event.ChannelAnswer, false) {
		t.Error("after noevents: CHANNEL_ANSWER still wanted")
	}
}
