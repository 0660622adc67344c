package sip

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/icholy/digest"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/internal/peer"
	"github.com/goswitch/goswitch/web"
)

var wsExtras = envOpt{internalExtra: `<param name="ws-binding" value=":0"/><param name="wss-binding" value=":0"/>`}

// wsPhone is a SIP phone on a WebSocket, as a browser's JsSIP is: its contact is unreachable
// (sip:...@x.invalid;transport=ws), only its connection is.
type wsPhone struct {
	t      *testing.T
	conn   net.Conn
	scheme string
	in     chan string
}

func dialWS(t *testing.T, scheme, addr string) *wsPhone {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"sip"}, Timeout: 3 * time.Second,
		TLSConfig: &tls.Config{InsecureSkipVerify: true}} // the profile's self-signed wss.pem
	conn, _, _, err := d.Dial(context.Background(), scheme+"://"+addr)
	if err != nil {
		t.Fatalf("dial %s://%s: %v", scheme, addr, err)
	}
	ph := &wsPhone{t: t, conn: conn, scheme: scheme, in: make(chan string, 16)}
	go func() {
		for {
			b, err := wsutil.ReadServerText(conn)
			if err != nil {
				close(ph.in)
				return
			}
			ph.in <- string(b)
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return ph
}

func (ph *wsPhone) send(msg string) {
	ph.t.Helper()
	if err := wsutil.WriteClientText(ph.conn, []byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		ph.t.Fatal(err)
	}
}

// recv returns the next message that is not a 100 Trying.
func (ph *wsPhone) recv(d time.Duration) string {
	ph.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-ph.in:
			if !ok {
				return ""
			}
			if strings.HasPrefix(m, "SIP/2.0 100") {
				continue
			}
			return m
		case <-deadline:
			return ""
		}
	}
}

// register registers user (password 1234) over the WebSocket, answering the 401.
func (ph *wsPhone) register(host, user string) {
	ph.t.Helper()
	tr := strings.ToUpper(ph.scheme)
	msg := func(cseq int, auth string) string {
		return fmt.Sprintf("REGISTER sip:%s SIP/2.0\nVia: SIP/2.0/%s df7jal23ls0d.invalid;branch=z9hG4bKws%d;rport\nFrom: <sip:%s@%s>;tag=wsreg\nTo: <sip:%s@%s>\nCall-ID: wsreg-%s\nCSeq: %d REGISTER\nContact: <sip:r4nd0m@df7jal23ls0d.invalid;transport=%s>\nExpires: 300\nMax-Forwards: 70\n%sContent-Length: 0\n\n",
			host, tr, cseq, user, host, user, host, ph.scheme, cseq, ph.scheme, auth)
	}
	ph.send(msg(1, ""))
	res := ph.recv(3 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 401") {
		ph.t.Fatalf("REGISTER over %s without credentials: %q", ph.scheme, res)
	}
	chal, err := digest.ParseChallenge(header(res, "WWW-Authenticate"))
	if err != nil {
		ph.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + host, Username: user, Password: "1234", Cnonce: "c", Count: 1})
	if err != nil {
		ph.t.Fatal(err)
	}
	ph.send(msg(2, "Authorization: "+cred.String()+"\n"))
	if res := ph.recv(3 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200") {
		ph.t.Fatalf("REGISTER over %s: %q", ph.scheme, res)
	}
}

// answer takes an INVITE from the PBX and answers it with PCMU on a port of its own.
func (ph *wsPhone) answer(inv string) {
	ph.t.Helper()
	var hdrs []string
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		v := header(inv, h)
		if h == "To" {
			v += ";tag=wsans"
		}
		hdrs = append(hdrs, h+": "+v)
	}
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
	body := strings.ReplaceAll(sdp, "\n", "\r\n")
	ph.send(fmt.Sprintf("SIP/2.0 200 OK\n%s\nContact: <sip:r4nd0m@df7jal23ls0d.invalid;transport=%s>\nContent-Type: application/sdp\nContent-Length: %d\n\n%s",
		strings.Join(hdrs, "\n"), ph.scheme, len(body), sdp))
}

// TestWebSocketRegisterAndCall: phones register over ws and over wss (vanilla's ws-binding and
// wss-binding) with unreachable contacts, as browsers do; a call to the user reaches the phone
// over its own connection (INVITE, ACK, BYE), and it answers.
func TestWebSocketRegisterAndCall(t *testing.T) {
	env := newEnv(t, wsExtras)
	var p *Profile
	for _, x := range env.ep.profiles {
		if x.cfg.Name == "internal" {
			p = x
		}
	}
	for _, tc := range []struct {
		scheme, addr, user string
	}{{"ws", p.WSAddr().String(), "1001"}, {"wss", p.WSSAddr().String(), "1002"}} {
		t.Run(tc.scheme, func(t *testing.T) {
			if tc.addr == "invalid AddrPort" {
				t.Fatalf("no %s listener", tc.scheme)
			}
			ph := dialWS(t, tc.scheme, tc.addr)
			ph.register("127.0.0.1", tc.user)
			regs := env.ep.Contacts("internal", tc.user, "127.0.0.1")
			if len(regs) != 1 || !strings.Contains(regs[0], "transport="+tc.scheme) {
				t.Fatalf("registration contacts %v", regs)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			var leg *core.Session
			go func() {
				var err error
				leg, err = env.h.Originate(ctx, "user/"+tc.user+"@127.0.0.1", core.OriginateOptions{CallerIDNumber: "1000"})
				done <- err
			}()
			inv := ph.recv(5 * time.Second)
			if !strings.HasPrefix(inv, "INVITE ") {
				t.Fatalf("no INVITE over the %s connection: %q", tc.scheme, inv)
			}
			if !strings.HasPrefix(strings.ToUpper(header(inv, "Via")), "SIP/2.0/"+strings.ToUpper(tc.scheme)+" ") {
				t.Errorf("INVITE Via %q, want %s", header(inv, "Via"), strings.ToUpper(tc.scheme))
			}
			ph.answer(inv)
			if err := <-done; err != nil {
				t.Fatalf("originate to the %s phone: %v", tc.scheme, err)
			}
			if ack := ph.recv(3 * time.Second); !strings.HasPrefix(ack, "ACK ") {
				t.Errorf("no ACK over %s: %q", tc.scheme, ack)
			}
			leg.Hangup(core.CauseNormalClearing)
			if bye := ph.recv(3 * time.Second); !strings.HasPrefix(bye, "BYE ") {
				t.Errorf("no BYE over %s: %q", tc.scheme, bye)
			}
		})
	}
}

// TestWebPhonePage: a plain HTTPS request on the wss port gets the web phone and SIP.js, while
// WebSocket upgrades on the same port are SIP.
func TestWebPhonePage(t *testing.T) {
	env := newEnv(t, wsExtras)
	var p *Profile
	for _, x := range env.ep.profiles {
		if x.cfg.Name == "internal" {
			p = x
		}
	}
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path string) (int, string, string) {
		res, err := cl.Get("https://" + p.WSSAddr().String() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	if code, _, body := get("/"); code != 200 || !strings.Contains(body, "goswitch web phone") {
		t.Errorf("GET /: %d %.200q", code, body)
	}
	if web.SIPJSDir() == "" {
		peer.Missing(t, "SIP.js not installed (npm ci in web/)")
	}
	if code, ct, body := get("/sipjs/index.js"); code != 200 || !strings.Contains(ct, "javascript") || !strings.Contains(body, "export") {
		t.Errorf("GET /sipjs/index.js: %d %s %.100q", code, ct, body)
	}
	ph := dialWS(t, "wss", p.WSSAddr().String()) // the same port still speaks SIP
	ph.register("127.0.0.1", "1001")
}
