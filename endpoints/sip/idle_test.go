package sip

import (
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/event"
)

// idleExt: a prompt then a sleep (comfort noise), and a sleep right after answer with
// send_silence_when_idle (silence frames).
const idleExt = `
    <extension name="idle_cn"><condition field="destination_number" expression="^5200$">
      <action application="answer"/><action application="playback" data="tone_stream://%(300,0,440)"/>
      <action application="sleep" data="3000"/><action application="park"/></condition></extension>
    <extension name="idle_silence"><condition field="destination_number" expression="^5201$">
      <action application="set" data="send_silence_when_idle=-1"/><action application="answer"/>
      <action application="sleep" data="2000"/><action application="park"/></condition></extension>`

// sleepWindow waits for the sleep application to start and end and returns both times.
func sleepWindow(t *testing.T, sub *event.Subscription) (start, end time.Time) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for end.IsZero() {
		select {
		case e := <-sub.C():
			if e.Get("Application") != "sleep" {
				continue
			}
			if e.Name == event.ChannelExecute {
				start = time.Now()
			} else if !start.IsZero() {
				end = time.Now()
			}
		case <-deadline:
			t.Fatal("sleep did not run")
		}
	}
	return start, end
}

// TestSIPpComfortNoiseWhileIdle: a SIPp caller offering CN gets it answered (the scenario checks
// a=rtpmap:13 CN/8000 in the 200) and, while the channel sleeps after a prompt, receives RFC 3389
// SIDs at FreeSWITCH's auto-CNG rate (one when the silence starts, then one per 60 packet times,
// 1.2 s at 20 ms) and no audio packets.
func TestSIPpComfortNoiseWhileIdle(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: idleExt})
	sub := subscribe(env.h, event.ChannelExecute, event.ChannelExecuteComplete)
	defer sub.Close()
	rec := newPktRecorder(t)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_cn.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "5200", "-key", "rtpport", itoa(rec.port()), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "4200", "-mi", "127.0.0.1")
	start, end := sleepWindow(t, sub)
	a.wait(t, "caller")
	var cn, audio int
	for _, p := range rec.between(start.Add(100*time.Millisecond), end) {
		switch p.pt {
		case 13:
			cn++
		default:
			audio++
		}
	}
	t.Logf("sleep of %v: %d CN packets, %d audio packets", end.Sub(start), cn, audio)
	if cn < 2 || cn > 4 || audio > 2 {
		t.Errorf("during a 3 s sleep: %d CN packets (want 2..4, one per 1.2 s), %d audio packets (want none)", cn, audio)
	}
}

// TestSIPpSilenceWhenIdle: with send_silence_when_idle=-1 a channel sleeping right after answer
// sends silence frames at its packet rate (50 a second at 20 ms), as FreeSWITCH's sleep does.
func TestSIPpSilenceWhenIdle(t *testing.T) {
	env := newEnv(t, envOpt{defaultExtra: idleExt})
	sub := subscribe(env.h, event.ChannelExecute, event.ChannelExecuteComplete)
	defer sub.Close()
	rec := newPktRecorder(t)
	a := callAs1000(t, env, "5201", rec.port(), 3000)
	start, end := sleepWindow(t, sub)
	a.wait(t, "caller")
	window := end.Sub(start) - 200*time.Millisecond
	pkts := rec.between(start.Add(100*time.Millisecond), end.Add(-100*time.Millisecond))
	silent := 0
	for _, p := range pkts {
		if p.pt == 0 && len(p.payload) == 160 && p.payload[0] == 0xFF && p.payload[159] == 0xFF {
			silent++
		}
	}
	want := int(window / (20 * time.Millisecond))
	t.Logf("sleep window %v: %d packets, %d PCMU silence frames (packet rate %d/s)", window, len(pkts), silent, int(float64(silent)/window.Seconds()))
	if silent < want*8/10 || len(pkts) > want+5 {
		t.Errorf("during sleep: %d silence packets of %d, want about %d (one per 20 ms)", silent, len(pkts), want)
	}
}
