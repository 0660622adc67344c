package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// ua is a minimal SIP user agent over UDP: just enough to register, call and answer.
type ua struct {
	conn *net.UDPConn
	dst  netip.AddrPort
	seq  int
}

func newUA(src string, dst netip.AddrPort) (*ua, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(src), 0)))
	if err != nil {
		return nil, err
	}
	return &ua{conn: c, dst: dst}, nil
}

func (u *ua) local() netip.AddrPort { return u.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func rnd() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type msg struct {
	raw   string
	first string
	hdr   map[string][]string
	body  string
}

func parse(raw string) *msg {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	ls := strings.Split(head, "\r\n")
	m := &msg{raw: raw, first: ls[0], hdr: map[string][]string{}, body: body}
	compact := map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length", "c": "content-type"}
	for _, l := range ls[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if c, ok := compact[k]; ok {
			k = c
		}
		m.hdr[k] = append(m.hdr[k], strings.TrimSpace(v))
	}
	return m
}

func (m *msg) get(k string) string {
	if v := m.hdr[strings.ToLower(k)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m *msg) code() int {
	if !strings.HasPrefix(m.first, "SIP/2.0 ") {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(m.first)[1])
	return n
}

func (u *ua) send(s string) error {
	_, err := u.conn.WriteToUDPAddrPort([]byte(s), u.dst)
	return err
}

// read returns the next message within d (nil on timeout).
func (u *ua) read(d time.Duration) *msg {
	buf := make([]byte, 65536)
	u.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := u.conn.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	return parse(string(buf[:n]))
}

// final waits for the final response to callID/cseq, answering requests it sees with 200.
func (u *ua) final(callID string, cseq int, d time.Duration) *msg {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		m := u.read(time.Until(end))
		if m == nil {
			return nil
		}
		if m.code() == 0 {
			u.answer(m, 200, "")
			continue
		}
		if m.get("call-id") == callID && strings.HasPrefix(m.get("cseq"), strconv.Itoa(cseq)+" ") && m.code() >= 200 {
			return m
		}
	}
	return nil
}

// answer responds to a request received on u (to its source: the request's Via).
func (u *ua) answer(req *msg, code int, extra string) {
	resp := fmt.Sprintf("SIP/2.0 %d %s\r\n", code, map[int]string{200: "OK", 100: "Trying"}[code])
	for _, v := range req.hdr["via"] {
		resp += "Via: " + v + "\r\n"
	}
	to := req.get("to")
	if code > 100 && !strings.Contains(to, "tag=") {
		to += ";tag=" + rnd()
	}
	resp += "From: " + req.get("from") + "\r\nTo: " + to + "\r\nCall-ID: " + req.get("call-id") + "\r\nCSeq: " + req.get("cseq") + "\r\n" + extra
	if !strings.Contains(extra, "Content-Length") {
		resp += "Content-Length: 0\r\n\r\n"
	}
	u.send(resp)
}

func (u *ua) request(method, ruri, from, to, callID string, cseq int, extra, body string) string {
	u.seq++
	l := u.local()
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"+
		"Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:%s@%s>\r\n%s%sContent-Length: %d\r\n\r\n%s",
		method, ruri, l, rnd(), from, to, callID, cseq, method, "attacker", l, extra, ct, len(body), body)
}

func sdp(ip string) string {
	return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
}

// register sends REGISTER for user with digest auth; returns the final code (0: no answer).
func (u *ua) register(user, pass, contact string, expires int) int {
	callID := "reg-" + rnd()
	ruri := "sip:" + u.dst.String()
	from := "<sip:" + user + "@" + u.dst.Addr().String() + ">;tag=" + rnd()
	to := "<sip:" + user + "@" + u.dst.Addr().String() + ">"
	extra := fmt.Sprintf("Contact: %s\r\nExpires: %d\r\n", contact, expires)
	req := strings.Replace(u.request("REGISTER", ruri, from, to, callID, 1, "", ""), "Contact: <sip:attacker@"+u.local().String()+">\r\n", extra, 1)
	u.send(req)
	m := u.final(callID, 1, 2*time.Second)
	if m == nil || m.code() != 401 {
		if m == nil {
			return 0
		}
		return m.code()
	}
	chal, err := digest.ParseChallenge(m.get("www-authenticate"))
	if err != nil {
		return -1
	}
	cred, _ := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: ruri, Username: user, Password: pass, Cnonce: rnd(), Count: 1})
	req = strings.Replace(u.request("REGISTER", ruri, from, to, callID, 2, "Authorization: "+cred.String()+"\r\n", ""),
		"Contact: <sip:attacker@"+u.local().String()+">\r\n", extra, 1)
	u.send(req)
	if m = u.final(callID, 2, 2*time.Second); m == nil {
		return 0
	}
	return m.code()
}
