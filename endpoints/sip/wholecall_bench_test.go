package sip

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWholeCall runs one whole authenticated call per iteration through the internal
// profile's real UDP socket: INVITE, 407, INVITE with digest credentials for 1000/1234, 200 from
// echo (9196), ACK, BYE, 200. B/op and allocs/op are the switch's per-call budget (plus this
// client's few buffers); cpu-ms/call is the process's user+system CPU per call, both sides.
func BenchmarkWholeCall(b *testing.B) {
	env := newEnv(b, envOpt{quiet: true})
	dst := env.addr(b, "internal")
	c := newBenchUA(b, dst)
	target := "sip:9196@" + dst.String()
	c.call(b, target, "warm") // first call pays for dialplan and codec caches
	waitSessions(b, env, 0)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.call(b, target, strconv.Itoa(i))
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/call")
	waitSessions(b, env, 0)
}

// waitSessions waits until the host has n sessions (calls end asynchronously after the BYE's 200).
func waitSessions(b *testing.B, env *testEnv, n int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for env.h.SessionCount() != n {
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions left, want %d", env.h.SessionCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchUA is a minimal SIP UAC on a raw UDP socket, lean enough that the switch dominates the
// numbers.
type benchUA struct {
	conn *net.UDPConn
	dst  netip.AddrPort
	buf  []byte
	msg  bytes.Buffer
	port string
}

func newBenchUA(b *testing.B, dst netip.AddrPort) *benchUA {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &benchUA{conn: c, dst: dst, buf: make([]byte, 65536), port: strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)}
}

const benchOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// send writes one request; to is the To header value, extra whole header lines.
func (u *benchUA) send(b *testing.B, method, ruri, callID, branch, to string, cseq int, extra, body string) {
	m := &u.msg
	m.Reset()
	m.WriteString(method + " " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + u.port + ";branch=z9hG4bK" + branch + ";rport\r\n")
	m.WriteString("From: <sip:1000@127.0.0.1>;tag=bench" + callID + "\r\nTo: " + to + "\r\nCall-ID: " + callID + "\r\nCSeq: ")
	m.WriteString(strconv.Itoa(cseq) + " " + method + "\r\nContact: <sip:1000@127.0.0.1:" + u.port + ">\r\nMax-Forwards: 70\r\n" + extra)
	if body != "" {
		m.WriteString("Content-Type: application/sdp\r\n")
	}
	m.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	if _, err := u.conn.WriteToUDPAddrPort(m.Bytes(), u.dst); err != nil {
		b.Fatal(err)
	}
}

// recv returns the next final response for callID and method, skipping 1xx and stray messages
// (a retransmitted 200 of an earlier call, the switch's own requests).
func (u *benchUA) recv(b *testing.B, callID, method string) string {
	deadline := time.Now().Add(5 * time.Second)
	u.conn.SetReadDeadline(deadline)
	for {
		n, _, err := u.conn.ReadFromUDPAddrPort(u.buf)
		if err != nil {
			b.Fatalf("%s %s: no final response: %v", method, callID, err)
		}
		m := u.buf[:n]
		if !bytes.HasPrefix(m, []byte("SIP/2.0 ")) || bytes.HasPrefix(m, []byte("SIP/2.0 1")) {
			continue
		}
		if !bytes.Contains(m, []byte("\r\nCall-ID: "+callID+"\r\n")) || !bytes.Contains(m, []byte(" "+method+"\r\n")) {
			continue
		}
		return string(m)
	}
}

// call runs one whole authenticated call.
func (u *benchUA) call(b *testing.B, target, id string) {
	callID := "wc" + id
	to := "<" + target + ">"
	u.send(b, "INVITE", target, callID, callID+"a", to, 1, "", benchOffer)
	res := u.recv(b, callID, "INVITE")
	if !strings.HasPrefix(res, "SIP/2.0 407") {
		b.Fatalf("first INVITE: %q", res)
	}
	u.send(b, "ACK", target, callID, callID+"a", header(res, "To"), 1, "", "")
	auth := "Proxy-Authorization: " + digestFor(header(res, "Proxy-Authenticate"), "INVITE", target) + "\r\n"
	u.send(b, "INVITE", target, callID, callID+"b", to, 2, auth, benchOffer)
	res = u.recv(b, callID, "INVITE")
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		b.Fatalf("authenticated INVITE: %q", res)
	}
	to = header(res, "To")
	u.send(b, "ACK", target, callID, callID+"c", to, 2, "", "")
	u.send(b, "BYE", target, callID, callID+"d", to, 3, "", "")
	if res = u.recv(b, callID, "BYE"); !strings.HasPrefix(res, "SIP/2.0 200") {
		b.Fatalf("BYE: %q", res)
	}
}
