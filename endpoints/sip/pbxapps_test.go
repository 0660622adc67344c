package sip

import (
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/eavesdrop"
	_ "github.com/goswitch/goswitch/apps/limit"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	_ "github.com/goswitch/goswitch/apps/valet"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// pbxAppsDialplan holds vanilla's pickup, valet and eavesdrop extensions (with a fixed callgroup
// and hold music, which vanilla takes from the directory and vars.xml) and a limited extension.
const pbxAppsDialplan = `
    <extension name="limited"><condition field="destination_number" expression="^lim$">
      <action application="limit" data="hash test_realm res 2 !USER_BUSY"/>
      <action application="answer"/><action application="echo"/></condition></extension>
    <extension name="ring_pickable"><condition field="destination_number" expression="^ring(10[01][0-9])$">
      <action application="export" data="dialed_extension=$1"/>
      <action application="set" data="hangup_after_bridge=true"/>
      <action application="set" data="continue_on_fail=true"/>
      <action application="hash" data="insert/${domain_name}-last_dial_ext/${dialed_extension}/${uuid}"/>
      <action application="hash" data="insert/${domain_name}-last_dial_ext/sales/${uuid}"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/${dialed_extension}@127.0.0.1"/>
      <action application="answer"/>
      <action application="set" data="fell_through=true"/>
      <action application="sleep" data="1000"/>
      <action application="hangup"/></condition></extension>
    <extension name="group-intercept"><condition field="destination_number" expression="^\*8$">
      <action application="set" data="callgroup=sales"/>
      <action application="answer"/>
      <action application="intercept" data="${hash(select/${domain_name}-last_dial_ext/${callgroup})}"/>
      <action application="sleep" data="2000"/></condition></extension>
    <extension name="intercept-ext"><condition field="destination_number" expression="^\*\*(\d+)$">
      <action application="answer"/>
      <action application="intercept" data="${hash(select/${domain_name}-last_dial_ext/$1)}"/>
      <action application="sleep" data="2000"/></condition></extension>
    <extension name="valet_park"><condition field="destination_number" expression="^((?!6000)60\d{2})$">
      <action application="set" data="valet_hold_music=tone_stream://%(10000,0,730);loops=-1"/>
      <action application="answer"/>
      <action application="valet_park" data="valet_parking_lot $1"/></condition></extension>
    <extension name="tone_party"><condition field="destination_number" expression="^tone1000$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(10000,0,1000);loops=-1"/></condition></extension>
    <extension name="spied"><condition field="destination_number" expression="^spied$">
      <action application="hash" data="insert/${domain_name}-spymap/${caller_id_number}/${uuid}"/>
      <action application="bridge" data="loopback/tone1000/default"/></condition></extension>
    <extension name="eavesdrop"><condition field="destination_number" expression="^88(\d{4})$|^\*0(.*)$">
      <action application="answer"/>
      <action application="eavesdrop" data="${hash(select/${domain_name}-spymap/$1$2)}"/></condition></extension>
`

func pbxEnv(t *testing.T) *testEnv { return newEnv(t, envOpt{defaultExtra: pbxAppsDialplan}) }

// callFrom1000 is callAs1000 with another scenario (uac_recv_bye.xml: waits for goswitch's BYE).
func callFrom1000(t *testing.T, env *testEnv, scen, dest string, rtpPort, holdMS int) *sippRun {
	t.Helper()
	return startSIPp(t, env.addr(t, "internal"), "-sf", scenario(scen), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", dest, "-key", "rtpport", itoa(rtpPort), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", itoa(holdMS), "-mi", "127.0.0.1")
}

func inboundTo(env *testEnv, dest string, answered bool) *core.Session {
	return findSession(env.h, func(s *core.Session) bool {
		return s.Direction() == core.Inbound && s.Profile().DestNumber == dest && (!answered || s.Answered()) && !s.HungUp()
	})
}

func mediaAddr(t *testing.T, s *core.Session) netip.AddrPort {
	t.Helper()
	var port string
	waitFor(t, "local media port of "+s.Name(), 5*time.Second, func() bool { port = s.Var("local_media_port"); return port != "" })
	return netip.MustParseAddrPort("127.0.0.1:" + port)
}

// TestSIPpLimitRefusesThird: `limit hash test_realm res 2 !USER_BUSY`: two SIPp calls are held
// up, the third gets 486 (USER_BUSY), limit_usage counts them and drops to 0 after the hangups.
func TestSIPpLimitRefusesThird(t *testing.T) {
	env := pbxEnv(t)
	a := callAs1000(t, env, "lim", freeUDPPort(t), 3000)
	b := callAs1000(t, env, "lim", freeUDPPort(t), 3000)
	usage := func() string {
		out, _ := env.h.APIOutput(t.Context(), "limit_usage", "hash test_realm res")
		return out
	}
	waitFor(t, "two calls counted", 10*time.Second, func() bool { return usage() == "2" })
	c := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_busy.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", "lim", "-key", "rtpport", itoa(freeUDPPort(t)), "-mi", "127.0.0.1")
	c.wait(t, "third caller refused with 486")
	if got := usage(); got != "2" {
		t.Errorf("usage after the refusal: %q", got)
	}
	if got, _ := env.h.APIOutput(t.Context(), "limit_hash_usage", "test_realm res"); got != "2" {
		t.Errorf("limit_hash_usage: %q", got)
	}
	a.wait(t, "first caller")
	b.wait(t, "second caller")
	waitFor(t, "limit released at hangup", 5*time.Second, func() bool { return usage() == "0" })
}

// TestSIPpInterceptRingingPhone: 1000 calls 1001 (a SIPp UAS that rings and never answers); a
// third phone dials vanilla's **1001 and takes the call: 1001 gets CANCEL (PICKED_OFF), the
// caller is answered and talks to the interceptor, RTP both ways.
func TestSIPpInterceptRingingPhone(t *testing.T) {
	testIntercept(t, "**1001")
}

// TestSIPpGroupPickup: the same through vanilla's *8 group intercept.
func TestSIPpGroupPickup(t *testing.T) {
	testIntercept(t, "*8")
}

func testIntercept(t *testing.T, pickup string) {
	env := pbxEnv(t)
	sub := subscribe(env.h, event.ChannelHangup)
	defer sub.Close()
	callee := registerUAS(t, env, "uas_cancel.xml", "1001", "0", "PCMU", 0)
	peerA, peerC := newRTPPeer(t), newRTPPeer(t)
	a := callFrom1000(t, env, "uac_recv_bye.xml", "ring1001", peerA.port(), 0)
	waitFor(t, "1001 ringing", 10*time.Second, func() bool {
		s := inboundTo(env, "ring1001", false)
		return s != nil && findSession(env.h, func(x *core.Session) bool { return x.Originator() == s }) != nil
	})
	caller := inboundTo(env, "ring1001", false)
	c := callAs1000(t, env, pickup, peerC.port(), 2500)
	callee.wait(t, "ringing phone cancelled")
	waitFor(t, "caller bridged to the interceptor", 10*time.Second, func() bool {
		p := caller.Peer()
		return p != nil && p.Profile().DestNumber == pickup && caller.Answered()
	})
	interceptor := caller.Peer()
	dstA, dstC := mediaAddr(t, caller), mediaAddr(t, interceptor)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); peerA.send(dstA, 0, 0x33, 50) }()
	go func() { defer wg.Done(); peerC.send(dstC, 0, 0x44, 50) }()
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	if _, seen := peerC.received(); seen[0x33] < 30 {
		t.Errorf("interceptor heard %d of the caller's packets", seen[0x33])
	}
	if _, seen := peerA.received(); seen[0x44] < 30 {
		t.Errorf("caller heard %d of the interceptor's packets", seen[0x44])
	}
	c.wait(t, "interceptor")
	a.wait(t, "caller gets BYE")
	if caller.Var("fell_through") != "" {
		t.Errorf("the caller's dialplan went on after the intercepted bridge")
	}
	picked := false
	deadline := time.After(5 * time.Second)
	for !picked {
		select {
		case e := <-sub.C():
			picked = e.Get("Call-Direction") == "outbound" && e.Get("Hangup-Cause") == "PICKED_OFF"
		case <-deadline:
			t.Fatalf("the ringing leg did not hang up with PICKED_OFF")
		}
	}
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestSIPpValetParkAndRetrieve: with vanilla's 60xx valet extension, A dials 6001 and is parked
// (it hears the hold music); B dials 6001 and is bridged to A, RTP both ways; valet_info shows
// the parked call meanwhile.
func TestSIPpValetParkAndRetrieve(t *testing.T) {
	env := pbxEnv(t)
	peerA, peerB := newRTPPeer(t), newRTPPeer(t)
	a := callFrom1000(t, env, "uac_recv_bye.xml", "6001", peerA.port(), 0)
	var parked *core.Session
	waitFor(t, "A parked", 10*time.Second, func() bool {
		parked = inboundTo(env, "6001", true)
		return parked != nil && parked.Var("valet_lot_extension") == "6001"
	})
	dstA := mediaAddr(t, parked)
	go peerA.send(dstA, 0, 0xFF, 5) // latch; 730 Hz starts each 20 ms packet at another phase, so first bytes vary
	waitFor(t, "hold music to A", 5*time.Second, func() bool {
		_, seen := peerA.received()
		n := 0
		for b, c := range seen {
			if b != 0xFF && b != 0x7F {
				n += c
			}
		}
		return n > 20
	})
	if info, _ := env.h.APIOutput(t.Context(), "valet_info", ""); !strings.Contains(info, `<lot name="valet_parking_lot">`) || !strings.Contains(info, parked.UUID()+`">6001<`) {
		t.Errorf("valet_info:\n%s", info)
	}
	b := callAs1000(t, env, "6001", peerB.port(), 2500)
	waitFor(t, "B bridged to A", 10*time.Second, func() bool {
		p := parked.Peer()
		return p != nil && p != parked
	})
	retriever := parked.Peer()
	dstB := mediaAddr(t, retriever)
	peerA.mu.Lock()
	peerA.seen = map[byte]int{}
	peerA.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); peerA.send(dstA, 0, 0x33, 50) }()
	go func() { defer wg.Done(); peerB.send(dstB, 0, 0x44, 50) }()
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	if _, seen := peerB.received(); seen[0x33] < 30 {
		t.Errorf("B heard %d of A's packets", seen[0x33])
	}
	if _, seen := peerA.received(); seen[0x44] < 30 {
		t.Errorf("A heard %d of B's packets", seen[0x44])
	}
	b.wait(t, "retriever")
	a.wait(t, "parked caller gets BYE")
	if info, _ := env.h.APIOutput(t.Context(), "valet_info", ""); strings.Contains(info, "<extension") {
		t.Errorf("slot still taken:\n%s", info)
	}
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// toneRTP sends a PCMU sine to dst and keeps the PCM of what it receives.
type toneRTP struct {
	seq  uint16
	ts   uint32
	conn *net.UDPConn
	mu   sync.Mutex
	pcm  []int16
	done chan struct{}
	wg   sync.WaitGroup
}

func newToneRTP(t *testing.T) *toneRTP {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &toneRTP{conn: c, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n > 12 && buf[1]&0x7f == 0 {
				r.mu.Lock()
				for _, b := range buf[12:n] {
					r.pcm = append(r.pcm, ulawDecode(b))
				}
				r.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		r.wg.Wait()
	})
	return r
}

func (r *toneRTP) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

func (r *toneRTP) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pcm)
}

func (r *toneRTP) since(m int) []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.pcm[m:]...)
}

// sendTone streams freq Hz for d at 20 ms a packet, or until stop closes. Sequence numbers and
// timestamps go on from the previous send (one sender at a time).
func (r *toneRTP) sendTone(dst netip.AddrPort, freq float64, d time.Duration, stop <-chan struct{}) {
	pkt := make([]byte, 12+160)
	n := int(d / (20 * time.Millisecond))
	start := time.Now()
	for i := 0; i < n; i++ {
		r.header(pkt, 0, false)
		for j := 0; j < 160; j++ {
			v := 8000 * math.Sin(2*math.Pi*freq*float64(i*160+j)/8000)
			pkt[12+j] = ulawEncode(int16(v))
		}
		r.ts += 160
		if _, err := r.conn.WriteToUDPAddrPort(pkt, dst); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Until(start.Add(time.Duration(i+1) * 20 * time.Millisecond))):
		}
	}
}

func (r *toneRTP) header(pkt []byte, pt byte, marker bool) {
	pkt[0], pkt[1] = 0x80, pt
	if marker {
		pkt[1] |= 0x80
	}
	pkt[2], pkt[3] = byte(r.seq>>8), byte(r.seq)
	r.seq++
	pkt[4], pkt[5], pkt[6], pkt[7] = byte(r.ts>>24), byte(r.ts>>16), byte(r.ts>>8), byte(r.ts)
	pkt[8], pkt[9], pkt[10], pkt[11] = 0x11, 0x22, 0x33, byte(r.port())
}

// sendDigit sends an RFC 4733 telephone-event (payload type 101) of 100 ms.
func (r *toneRTP) sendDigit(dst netip.AddrPort, ev byte) {
	pkt := make([]byte, 16)
	for i := 0; i < 8; i++ {
		r.header(pkt, 101, i == 0)
		dur := uint16(160 * min(i+1, 5))
		end := byte(0)
		if i >= 5 {
			end = 0x80
		}
		pkt[12], pkt[13], pkt[14], pkt[15] = ev, end|10, byte(dur>>8), byte(dur)
		_, _ = r.conn.WriteToUDPAddrPort(pkt, dst)
		time.Sleep(20 * time.Millisecond)
	}
	r.ts += 800
}

func ulawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

func ulawDecode(b byte) int16 {
	b = ^b
	sign, exp, mant := b&0x80, int(b>>4)&7, int(b&0x0f)
	v := ((mant << 3) + 0x84) << exp
	v -= 0x84
	if sign != 0 {
		return int16(-v)
	}
	return int16(v)
}

// TestSIPpEavesdropHearsBoth: 1000 calls a party that plays 1000 Hz and itself sends 500 Hz; a
// third phone dials vanilla's 881000 (eavesdrop on the spymap entry of 1000) and hears both
// tones; after DTMF 3 (RFC 4733) it barges in and the caller hears it too.
func TestSIPpEavesdropHearsBoth(t *testing.T) {
	env := pbxEnv(t)
	talker, spy := newToneRTP(t), newToneRTP(t)
	a := callAs1000(t, env, "spied", talker.port(), 7000)
	var caller *core.Session
	waitFor(t, "caller bridged to the tone party", 10*time.Second, func() bool {
		caller = inboundTo(env, "spied", true)
		return caller != nil && caller.Peer() != nil
	})
	dst := mediaAddr(t, caller)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		talker.sendTone(dst, 500, 10*time.Second, stop)
	}()
	defer func() { close(stop); wg.Wait() }()
	s := callAs1000(t, env, "881000", spy.port(), 4500)
	waitFor(t, "eavesdropper on the call", 10*time.Second, func() bool {
		e := inboundTo(env, "881000", true)
		return e != nil && e.Var("eavesdrop_target") == caller.UUID()
	})
	time.Sleep(300 * time.Millisecond)
	m := spy.mark()
	time.Sleep(1000 * time.Millisecond)
	heard := spy.since(m)
	if len(heard) < 4000 {
		t.Fatalf("eavesdropper got %d samples in 1 s", len(heard))
	}
	g500, g1000, g700 := playtest.Goertzel(heard, 500, 8000), playtest.Goertzel(heard, 1000, 8000), playtest.Goertzel(heard, 700, 8000)
	t.Logf("eavesdropper's tone shares: 500 Hz %.3f, 1000 Hz %.3f, 700 Hz %.3f", g500, g1000, g700)
	if g500 < 0.1 || g1000 < 0.1 || g700 > 0.02 {
		t.Errorf("eavesdropper's tone shares: 500 Hz %.3f (caller), 1000 Hz %.3f (called party), 700 Hz %.3f", g500, g1000, g700)
	}
	// 3 (barge): the caller now also hears the eavesdropper's 1500 Hz.
	spyDst := mediaAddr(t, inboundTo(env, "881000", true))
	spy.sendDigit(spyDst, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		spy.sendTone(spyDst, 1500, 10*time.Second, stop)
	}()
	waitFor(t, "barge mode", 5*time.Second, func() bool {
		e := inboundTo(env, "881000", true)
		return e != nil && e.Var("eavesdrop_mode") == "talk-both"
	})
	time.Sleep(300 * time.Millisecond)
	m = talker.mark()
	time.Sleep(700 * time.Millisecond)
	heard = talker.since(m)
	g1500, g1000b := playtest.Goertzel(heard, 1500, 8000), playtest.Goertzel(heard, 1000, 8000)
	t.Logf("caller during barge: 1500 Hz %.3f (eavesdropper), 1000 Hz %.3f (called party)", g1500, g1000b)
	if g1500 < 0.1 || g1000b < 0.1 {
		t.Errorf("barge: the caller hears the eavesdropper at %.3f, its party at %.3f", g1500, g1000b)
	}
	s.wait(t, "eavesdropper")
	a.wait(t, "caller")
}
