package sip

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback" // hold music player (local_stream://)
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// pktRecorder is a test RTP socket that keeps every packet it receives with its arrival time.
type pktRecorder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []recvdPacket
	wg   sync.WaitGroup
}

type recvdPacket struct {
	at      time.Time
	pt      byte
	payload []byte
}

func newPktRecorder(t *testing.T) *pktRecorder {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &pktRecorder{conn: c}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			hl := 12 + 4*int(buf[0]&0x0f)
			if n < hl {
				continue
			}
			r.mu.Lock()
			r.pkts = append(r.pkts, recvdPacket{at: time.Now(), pt: buf[1] & 0x7f, payload: append([]byte(nil), buf[hl:n]...)})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); r.wg.Wait() })
	return r
}

func (r *pktRecorder) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

// between returns the packets that arrived in [from, to).
func (r *pktRecorder) between(from, to time.Time) []recvdPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recvdPacket
	for _, p := range r.pkts {
		if !p.at.Before(from) && p.at.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

// pcmuRMS decodes a PCMU payload and returns its RMS level in linear units (full scale 32768).
func pcmuRMS(t *testing.T, payload []byte) float64 {
	c, ok := media.LookupCodec("PCMU", 8000, 1)
	if !ok {
		t.Fatal("no PCMU codec")
	}
	pcm := make([]int16, len(payload)*2)
	n, err := c.NewDecoder().Decode(pcm, payload)
	if err != nil || n == 0 {
		return 0
	}
	var e float64
	for _, s := range pcm[:n] {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(n))
}

// holdExt bridges to a user with hold_music=silence on the caller: a hold then plays nothing.
const holdExt = `
    <extension name="hold_silence"><condition field="destination_number" expression="^52(10[0-9][0-9])$">
      <action application="export" data="hold_music=silence"/>
      <action application="bridge" data="{sip_h_X-Bleg=ok}user/$1@127.0.0.1"/></condition></extension>`

// TestSIPpHoldMusic: 1000 (SIPp) calls 1001 (SIPp), bridged and relayed; 1000 puts 1001 on hold
// with a=sendonly for 2 s, then resumes with a=sendrecv. During the hold 1001 hears music (PCMU
// with audio energy, none of 1000's packets), CHANNEL_HOLD and CHANNEL_UNHOLD fire, and after the
// resume 1001 gets 1000's packets again through the relay. With hold_music=silence the bridge is
// left alone, as FreeSWITCH does.
func TestSIPpHoldMusic(t *testing.T) {
	t.Run("local_stream", func(t *testing.T) { holdMusicCall(t, "1001", true) })
	t.Run("silence", func(t *testing.T) { holdMusicCall(t, "521001", false) })
}

func holdMusicCall(t *testing.T, dest string, wantMusic bool) {
	env := newEnv(t, envOpt{defaultExtra: holdExt})
	sub := subscribe(env.h, event.ChannelHold, event.ChannelUnhold)
	defer sub.Close()
	heldMedia := newPktRecorder(t)
	port := itoa(freeUDPPort(t))
	b := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_rtpport.xml"), "-s", "1001", "-p", port,
		"-key", "rtpport", itoa(heldMedia.port()), "-key", "codec", "0", "-key", "codecname", "PCMU", "-d", "200")
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register 1001")
	waitFor(t, "1001 registered", 10*time.Second, func() bool { return len(env.ep.Contacts("internal", "1001", "127.0.0.1")) == 1 })

	holder := newRTPPeer(t)
	a := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uac_hold_music.xml"), "-s", "1000", "-au", "1000", "-ap", "1234",
		"-key", "dest", dest, "-key", "rtpport", itoa(holder.port()), "-key", "codec", "0", "-key", "codecname", "PCMU",
		"-d", "1200", "-mi", "127.0.0.1")
	dst := waitBridged(t, env, nil)
	sending := make(chan struct{})
	go func() { defer close(sending); holder.send(dst, 0, 0x33, 260) }() // 1000 keeps talking throughout
	bridged := time.Now()

	holdAt, unholdAt := waitHoldEvents(t, sub)
	a.wait(t, "holder")
	b.wait(t, "held party")
	<-sending

	checkHoldMedia(t, heldMedia, bridged, holdAt, unholdAt, wantMusic)
	waitFor(t, "channels gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// waitHoldEvents returns when CHANNEL_HOLD and then CHANNEL_UNHOLD arrived.
func waitHoldEvents(t *testing.T, sub *event.Subscription) (holdAt, unholdAt time.Time) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for unholdAt.IsZero() {
		select {
		case e := <-sub.C():
			switch e.Name {
			case event.ChannelHold:
				holdAt = time.Now()
			case event.ChannelUnhold:
				unholdAt = time.Now()
			}
		case <-deadline:
			t.Fatalf("hold events: hold at %v, unhold at %v", holdAt, unholdAt)
		}
	}
	if holdAt.IsZero() {
		t.Fatal("CHANNEL_UNHOLD without CHANNEL_HOLD")
	}
	return holdAt, unholdAt
}

// checkHoldMedia judges what the held party received: the holder's packets (payload 0x33) before
// the hold, music (or, without music, still the holder's packets) during it, the relay after it.
func checkHoldMedia(t *testing.T, heldMedia *pktRecorder, bridged, holdAt, unholdAt time.Time, wantMusic bool) {
	t.Helper()
	talker := func(ps []recvdPacket) (mine, other int) {
		for _, p := range ps {
			if p.pt == 0 && len(p.payload) > 0 && p.payload[0] == 0x33 && p.payload[len(p.payload)-1] == 0x33 {
				mine++
			} else {
				other++
			}
		}
		return
	}
	before := heldMedia.between(bridged.Add(200*time.Millisecond), holdAt)
	if mine, _ := talker(before); mine < 20 {
		t.Errorf("before hold: the held party got %d of the holder's packets (of %d)", mine, len(before))
	}
	during := heldMedia.between(holdAt.Add(300*time.Millisecond), unholdAt.Add(-100*time.Millisecond))
	window := unholdAt.Add(-100 * time.Millisecond).Sub(holdAt.Add(300 * time.Millisecond))
	mine, _ := talker(during)
	loud := 0
	var peak float64
	for _, p := range during {
		if p.pt != 0 || (len(p.payload) > 0 && p.payload[0] == 0x33) {
			continue // the holder's own packets do not count as music
		}
		rms := pcmuRMS(t, p.payload)
		peak = max(peak, rms)
		if rms > 300 { // about -40 dBFS: the built-in music sits near -20 dBFS, silence decodes to 0..8
			loud++
		}
	}
	want := int(window/(20*time.Millisecond)) * 7 / 10
	t.Logf("hold window %v: %d packets, %d with energy (peak rms %.0f), %d relayed from the holder", window, len(during), loud, peak, mine)
	switch {
	case wantMusic && mine > 0:
		t.Errorf("during hold the held party still got %d of the holder's packets", mine)
	case wantMusic && loud < want:
		t.Errorf("during hold the held party got %d packets with audio energy, want >= %d (%d packets in %v)", loud, want, len(during), window)
	case !wantMusic && (loud > 0 || mine < want):
		t.Errorf("hold_music=silence: %d music packets, %d relayed (want the relay untouched, >= %d)", loud, mine, want)
	}
	after := heldMedia.between(unholdAt.Add(300*time.Millisecond), unholdAt.Add(1400*time.Millisecond))
	if mine, _ := talker(after); mine < 30 {
		t.Errorf("after resume: the held party got %d of the holder's packets (of %d), want the relay back", mine, len(after))
	}
}

// TestSIPpHoldMusicCalleeHolds: the callee (a SIPp UAS) holds the caller with its own re-INVITE;
// the caller, on the other leg, hears the music until the callee resumes.
func TestSIPpHoldMusicCalleeHolds(t *testing.T) {
	env := newEnv(t, envOpt{})
	sub := subscribe(env.h, event.ChannelHold, event.ChannelUnhold)
	defer sub.Close()
	holder := newRTPPeer(t)
	port := itoa(freeUDPPort(t))
	b := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("uas_hold.xml"), "-s", "1001", "-p", port,
		"-key", "rtpport", itoa(holder.port()), "-key", "codec", "0", "-key", "codecname", "PCMU")
	reg := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", port)
	reg.wait(t, "register 1001")
	waitFor(t, "1001 registered", 10*time.Second, func() bool { return len(env.ep.Contacts("internal", "1001", "127.0.0.1")) == 1 })
	heldMedia := newPktRecorder(t)
	a := callAs1000(t, env, "1001", heldMedia.port(), 5000)
	var dst netip.AddrPort
	waitBridged(t, env, func(_, callee *core.Session) bool {
		p := callee.Var("local_media_port")
		if p != "" {
			dst = netip.MustParseAddrPort("127.0.0.1:" + p)
		}
		return p != ""
	})
	sending := make(chan struct{})
	go func() { defer close(sending); holder.send(dst, 0, 0x33, 250) }()
	bridged := time.Now()
	holdAt, unholdAt := waitHoldEvents(t, sub)
	b.wait(t, "holding callee")
	a.wait(t, "held caller")
	<-sending
	checkHoldMedia(t, heldMedia, bridged, holdAt, unholdAt, true)
}
