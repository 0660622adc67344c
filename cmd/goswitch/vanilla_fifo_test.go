package main

import (
	"testing"
	"time"
)

// vanillaPark: vanilla's park/unpark pair (mod_fifo): 1005 calls 5900 and waits in the queue
// hearing the hold music; 1006 calls 5901 ("fifo 5900@domain out nowait") and the two talk, RTP
// both ways; when 1006 hangs up, the parked caller follows it out (BYE from the PBX).
func vanillaPark(t *testing.T, pbx *vanillaPBX) {
	parked := newRTPLeg(t, constant(0x33))
	a := pbx.call(t, "uac_recv_bye.xml", "1005", "5900", 30*time.Second, parked)
	parked.setDst(a.remoteMedia(t, 25*time.Second))
	queued := time.Now()
	if !parked.waitPackets(20*time.Second, queued, hasEnergy) {
		t.Fatal("5900: the parked caller hears no hold music")
	}
	picker := newRTPLeg(t, constant(0x44))
	b := pbx.call(t, "uac_auth.xml", "1006", "5901", 4*time.Second, picker)
	picker.setDst(b.remoteMedia(t, 25*time.Second))
	picked := time.Now()
	heard := picker.waitPackets(20*time.Second, picked, func(ps []rtpIn) bool { return countConstant(ps, 0x33) >= 50 })
	back := parked.waitPackets(10*time.Second, picked, func(ps []rtpIn) bool { return countConstant(ps, 0x44) >= 50 })
	b.wait(t, "1006 unparks on 5901", 40*time.Second)
	a.wait(t, "1005 parked on 5900", 40*time.Second)
	if !heard || !back {
		t.Errorf("5901 after 5900: picker heard the parked caller %v (%d packets), parked caller heard the picker %v (%d packets)",
			heard, countConstant(picker.since(picked), 0x33), back, countConstant(parked.since(picked), 0x44))
	}
}
