package sip

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

// inbandExt: an IVR-like read after start_dtmf, and a bridge with detection on the caller's leg.
const inbandExt = `
    <extension name="inband_read"><condition field="destination_number" expression="^5100$">
      <action application="answer"/><action application="start_dtmf"/>
      <action application="read" data="1 1 silence_stream://200 inband_digit 6000 #"/>
      <action application="park"/></condition></extension>
    <extension name="inband_bridge"><condition field="destination_number" expression="^51(10[0-9][0-9])$">
      <action application="spandsp_start_dtmf"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>`

// sendTones streams PCMU to dst: lead ms of silence, then each digit as a 120 ms tone with 80 ms
// of silence after it, then 300 ms of silence (a trunk that sends DTMF in the audio).
func sendTones(t *testing.T, r *rtpPeer, dst netip.AddrPort, digits string, lead int) {
	t.Helper()
	c, ok := media.LookupCodec("PCMU", 8000, 1)
	if !ok {
		t.Fatal("no PCMU")
	}
	enc := c.NewEncoder()
	var pcm []int16
	pcm = append(pcm, make([]int16, lead*8)...)
	g, err := audio.NewDTMFTone(digits, 120*time.Millisecond, 80*time.Millisecond, 8000)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 160)
	for {
		n, err := media.ReadFull(g, buf)
		pcm = append(pcm, buf[:n]...)
		if err != nil || n < len(buf) {
			break
		}
	}
	pcm = append(pcm, make([]int16, 300*8)...)
	pkt := make([]byte, 12+160)
	for i := 0; (i+1)*160 <= len(pcm); i++ {
		pkt[0], pkt[1] = 0x80, 0
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		ts := uint32(i * 160)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = 0x51, 0x7e, 0x00, 0x01
		if _, err := enc.Encode(pkt[12:], pcm[i*160:(i+1)*160]); err != nil {
			t.Fatal(err)
		}
		r.conn.WriteToUDPAddrPort(pkt, dst)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIPpInbandDTMFRead: a SIPp caller whose digits arrive only as tones in its PCMU audio (no
// telephone-event packets) reaches a read after start_dtmf; the read collects the digit and a DTMF
// event with DTMF-Source INBAND_AUDIO fires.
func TestSIPpInbandDTMFRead(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: inbandExt})
	sub := subscribe(env.h, "DTMF")
	defer sub.Close()
	peer := newRTPPeer(t)
	a := callAs1000(t, env, "5100", peer.port(), 3500)
	var s *core.Session
	waitFor(t, "answered call in read", 10*time.Second, func() bool {
		s = answeredInbound(env)
		return s != nil && s.Var("local_media_port") != ""
	})
	dst := netip.MustParseAddrPort("127.0.0.1:" + s.Var("local_media_port"))
	sendTones(t, peer, dst, "2", 300)
	waitFor(t, "read to collect the in-band digit", 3*time.Second, func() bool { return s.Var("inband_digit") != "" })
	if got := s.Var("inband_digit"); got != "2" {
		t.Errorf("inband_digit = %q, want 2", got)
	}
	select {
	case e := <-sub.C():
		if e.Get("DTMF-Digit") != "2" || e.Get("DTMF-Source") != "INBAND_AUDIO" {
			t.Errorf("DTMF event: digit %q source %q", e.Get("DTMF-Digit"), e.Get("DTMF-Source"))
		}
	case <-time.After(time.Second):
		t.Error("no DTMF event")
	}
	a.wait(t, "caller")
}

// TestSIPpInbandDTMFOnRelayedBridge: spandsp_start_dtmf on the caller, then a bridge that relays
// packets (same codec): the tones still reach the callee in the audio, and the caller's channel
// detects the digits from a decoded copy, without the relay becoming a transcoding bridge.
func TestSIPpInbandDTMFOnRelayedBridge(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: inbandExt})
	sub := subscribe(env.h, "DTMF")
	defer sub.Close()
	b := registerUAS(t, env, "uas.xml", "1001", "0", "PCMU", 200)
	peer := newRTPPeer(t)
	a := callAs1000(t, env, "511001", peer.port(), 3000)
	dst := waitBridged(t, env, nil)
	caller := answeredInbound(env)
	if pipe := caller.Port().String(); !strings.Contains(pipe, "-> relay") {
		t.Errorf("caller's port is not relayed: %s", pipe)
	}
	sendTones(t, peer, dst, "59", 200)
	var got []string
	deadline := time.After(2 * time.Second)
	for len(got) < 2 {
		select {
		case e := <-sub.C():
			if e.Get("Unique-ID") == caller.UUID() && e.Get("DTMF-Source") == "INBAND_AUDIO" {
				got = append(got, e.Get("DTMF-Digit"))
			}
		case <-deadline:
			t.Fatalf("in-band digits detected on the relayed caller: %v, want [5 9]", got)
		}
	}
	if strings.Join(got, "") != "59" {
		t.Errorf("digits %v, want 5 9", got)
	}
	if n, seen := peer.received(); n < 20 {
		t.Errorf("relay: the echoing callee sent back %d packets (%v)", n, len(seen))
	}
	a.wait(t, "caller")
	b.wait(t, "callee")
}
