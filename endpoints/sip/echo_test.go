package sip

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rtpPacket is one packet the test's media socket received.
type rtpPacket struct {
	at      time.Time
	seq     uint16
	ts      uint32
	payload []byte
}

// rtpRecorder is a caller's RTP socket that keeps every packet it receives.
type rtpRecorder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []rtpPacket
	wg   sync.WaitGroup
}

func newRTPRecorder(t *testing.T) *rtpRecorder {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rtpRecorder{conn: c}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if n < 12 || buf[1]&0x7f != 0 { // PCMU only: no CN, no events
				continue
			}
			r.mu.Lock()
			r.pkts = append(r.pkts, rtpPacket{at: time.Now(), seq: binary.BigEndian.Uint16(buf[2:]),
				ts: binary.BigEndian.Uint32(buf[4:]), payload: bytes.Clone(buf[12:n])})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); r.wg.Wait() })
	return r
}

func (r *rtpRecorder) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

func (r *rtpRecorder) received() []rtpPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rtpPacket(nil), r.pkts...)
}

// send sends one PCMU packet of ptime ms (8 samples a ms) to dst.
func (r *rtpRecorder) send(dst netip.AddrPort, seq uint16, ts uint32, payload []byte) {
	pkt := make([]byte, 12, 12+len(payload))
	pkt[0] = 0x80
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[4:], ts)
	binary.BigEndian.PutUint32(pkt[8:], 0x5eed1234)
	r.conn.WriteToUDPAddrPort(append(pkt, payload...), dst)
}

// callWithPtime calls dest on the external profile (no auth) offering PCMU at ptime ms with its
// RTP on rec, and returns goswitch's RTP address and a func that hangs up.
func callWithPtime(t *testing.T, env *testEnv, dest string, rec *rtpRecorder, ptime int) (netip.AddrPort, func()) {
	t.Helper()
	u := newRawUA(t, env.addr(t, "external"))
	target := "sip:" + dest + "@" + env.addr(t, "external").String()
	callID := "echo" + dest + strconv.Itoa(rec.port())
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio " + itoa(rec.port()) +
		" RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=ptime:" + itoa(ptime) + "\na=sendrecv\n"
	u.send(u.request("INVITE", target, callID, 1, "", sdp))
	var res string
	for res = u.recv(3 * time.Second); strings.HasPrefix(res, "SIP/2.0 18"); res = u.recv(3 * time.Second) {
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("INVITE %s: %q", dest, res)
	}
	if !strings.Contains(res, "a=ptime:"+itoa(ptime)) {
		t.Errorf("answer without our ptime %d:\n%s", ptime, res)
	}
	var port string
	for _, l := range strings.Split(res, "\r\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "m=audio" {
			port = f[1]
		}
	}
	to := header(res, "To")
	inDialog := func(method string, cseq int) string {
		m := u.request(method, target, callID, cseq, "", "")
		m = strings.Replace(m, "To: <"+target+">", "To: "+to, 1)
		return strings.Replace(m, "branch=z9hG4bK"+callID, "branch=z9hG4bK"+callID+method, 1)
	}
	u.send(inDialog("ACK", 1))
	return netip.MustParseAddrPort("127.0.0.1:" + port), func() {
		u.send(inDialog("BYE", 2))
		if res := u.recv(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
			t.Errorf("BYE: %q", res)
		}
	}
}

// TestEchoReturnsPacketsAsTheyCame: 30 ms PCMU to 9196 (answer, echo) comes back packet for
// packet: the same 240-byte payloads, 240 timestamp units apart (FreeSWITCH returned 231 of 236
// unchanged; goswitch used to re-frame them into 20 ms packets, none identical).
func TestEchoReturnsPacketsAsTheyCame(t *testing.T) {
	env := newEnv(t, envOpt{})
	rec := newRTPRecorder(t)
	dst, hangup := callWithPtime(t, env, "9196", rec, 30)
	sent := map[string]bool{}
	for i := range 40 {
		pay := make([]byte, 240)
		for j := range pay {
			pay[j] = byte(i*31 + j)
		}
		sent[string(pay)] = true
		rec.send(dst, uint16(1000+i), uint32(5000+240*i), pay)
		time.Sleep(30 * time.Millisecond)
	}
	waitFor(t, "echoed packets", 2*time.Second, func() bool { return len(rec.received()) >= 38 })
	got := rec.received()
	same := 0
	for i, p := range got {
		if sent[string(p.payload)] {
			same++
		}
		if i > 0 && p.seq == got[i-1].seq+1 && p.ts-got[i-1].ts != 240 {
			t.Errorf("packet %d: timestamp step %d, want 240", i, p.ts-got[i-1].ts)
		}
	}
	if same < 38 || len(got) > 40 {
		t.Errorf("got %d packets back, %d byte-identical to what we sent (sizes: first %d bytes)", len(got), same, len(got[0].payload))
	}
	hangup()
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestEchoSendsNothingToASilentCaller: a caller that sends no RTP gets none back (issue 16:
// goswitch's echo sent 50 packets/s of silence to every such caller).
func TestEchoSendsNothingToASilentCaller(t *testing.T) {
	env := newEnv(t, envOpt{})
	rec := newRTPRecorder(t)
	_, hangup := callWithPtime(t, env, "9196", rec, 20)
	waitFor(t, "echo running", 2*time.Second, func() bool {
		s := answeredInbound(env)
		app, _ := "", ""
		if s != nil {
			app, _ = s.CurrentApp()
		}
		return app == "echo"
	})
	time.Sleep(time.Second)
	if n := len(rec.received()); n != 0 {
		t.Errorf("echo sent %d packets to a caller that sent none", n)
	}
	hangup()
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}

// TestDelayEchoDelaysByItsArgument: delay_echo 1000 with 30 ms packets returns the first loud
// packet about 1 s after it was sent (goswitch counted frames of the negotiated 20 ms: 1.5 s).
func TestDelayEchoDelaysByItsArgument(t *testing.T) {
	env := newEnv(t, envOpt{})
	rec := newRTPRecorder(t)
	// The SDP says 20 ms (what a=ptime-less offers mean too); the phone sends 30 ms anyway.
	dst, hangup := callWithPtime(t, env, "9194", rec, 20)
	silence, loud := bytes.Repeat([]byte{0xFF}, 240), bytes.Repeat([]byte{0x00}, 240)
	var loudAt time.Time
	for i := range 80 {
		pay := silence
		if i >= 10 && i < 20 {
			pay = loud
			if loudAt.IsZero() {
				loudAt = time.Now()
			}
		}
		rec.send(dst, uint16(i), uint32(240*i), pay)
		time.Sleep(30 * time.Millisecond)
	}
	var back time.Time
	for _, p := range rec.received() {
		if bytes.IndexByte(p.payload, 0x00) >= 0 {
			back = p.at
			break
		}
	}
	if back.IsZero() {
		t.Fatalf("the loud packets never came back (%d packets received)", len(rec.received()))
	}
	if d := back.Sub(loudAt); d < 900*time.Millisecond || d > 1300*time.Millisecond {
		t.Errorf("delay_echo 1000 delayed %v", d)
	} else {
		t.Logf("delay_echo 1000 delayed %v", d)
	}
	hangup()
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
