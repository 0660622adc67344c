package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFlushInboundReg: `sofia profile internal flush_inbound_reg` by user@host (a SIPp
// registration), by Call-ID with reboot (the phone, a UDP socket, gets FreeSWITCH's check-sync
// NOTIFY and answers it) and for the whole profile; each flushed binding fires sofia::expire.
func TestFlushInboundReg(t *testing.T) {
	env := newEnv(t, envOpt{})
	ctx := t.Context()
	expired := subscribe(env.h, "sofia::expire")
	defer expired.Close()

	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", "5099")
	r.wait(t, "register")
	waitFor(t, "binding", 5*time.Second, func() bool { return len(env.ep.Contacts("internal", "1001", "127.0.0.1")) == 1 })

	phone := newRawUA(t, env.addr(t, "internal"))
	env.ep.regs.upsert(&Registration{CallID: "snom-call-1", User: "1003", Host: "127.0.0.1", Profile: "internal",
		Contact:    fmt.Sprintf("<sip:1003@127.0.0.1:%d>", phone.port()),
		ContactURI: fmt.Sprintf("sip:1003@127.0.0.1:%d", phone.port()), Expires: time.Now().Add(time.Hour),
		NetworkIP: "127.0.0.1", NetworkPort: phone.port(), Transport: "UDP", UserAgent: "snom D785/10.1", AuthUser: "1003", Realm: "127.0.0.1"})
	env.ep.regs.upsert(&Registration{CallID: "other-1", User: "1000", Host: "127.0.0.1", Profile: "internal",
		Contact: "<sip:1000@127.0.0.1:9>", ContactURI: "sip:1000@127.0.0.1:9", Expires: time.Now().Add(time.Hour),
		NetworkIP: "127.0.0.1", NetworkPort: 9, Transport: "UDP", AuthUser: "1000", Realm: "127.0.0.1"})

	wantExpire := func(user string) {
		t.Helper()
		select {
		case e := <-expired.C():
			if e.Get("from-user") != user || e.Get("profile-name") != "internal" {
				t.Errorf("sofia::expire for %s@%s, want %s", e.Get("from-user"), e.Get("profile-name"), user)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("no sofia::expire for %s", user)
		}
	}

	out, _ := env.h.APIOutput(ctx, "sofia", "profile internal flush_inbound_reg 1001@127.0.0.1")
	if out != "+OK flushing all registrations matching specified user@realm\n" {
		t.Errorf("flush user@host: %q", out)
	}
	wantExpire("1001")
	if n := len(env.ep.Contacts("internal", "1001", "127.0.0.1")); n != 0 {
		t.Errorf("1001 still has %d bindings", n)
	}
	if n := len(env.ep.Contacts("internal", "1003", "127.0.0.1")); n != 1 {
		t.Errorf("1003 lost its binding to someone else's flush (%d)", n)
	}

	// The phone answers the NOTIFY while the API command waits for it.
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 65536)
		phone.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := phone.conn.ReadFromUDP(buf)
		if err != nil {
			got <- ""
			return
		}
		msg := string(buf[:n])
		got <- msg
		phone.conn.WriteToUDP([]byte(okFor(msg)), from)
	}()
	out, _ = env.h.APIOutput(ctx, "sofia", "profile internal flush_inbound_reg snom-call-1 reboot")
	if out != "+OK rebooting all registrations matching specified call_id\n" {
		t.Errorf("flush call_id reboot: %q", out)
	}
	msg := <-got
	if !strings.HasPrefix(msg, "NOTIFY sip:1003@127.0.0.1:") || header(msg, "Event") != "check-sync;reboot=true" {
		t.Errorf("reboot NOTIFY to the phone: %q", msg)
	}
	wantExpire("1003")

	out, _ = env.h.APIOutput(ctx, "sofia", "profile internal flush_inbound_reg")
	if out != "+OK flushing all registrations\n" {
		t.Errorf("flush all: %q", out)
	}
	wantExpire("1000")
	if regs := env.ep.Registrations(); len(regs) != 0 {
		t.Errorf("registrations left: %+v", regs)
	}
	if out, _ = env.h.APIOutput(ctx, "sofia", "profile nope flush_inbound_reg"); out != "Invalid Profile [nope]\n" {
		t.Errorf("unknown profile: %q", out)
	}
}

// okFor builds the 200 answering a request.
func okFor(req string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		for _, l := range strings.Split(req, "\r\n") {
			if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), h) {
				b.WriteString(l + "\r\n")
			}
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// TestKillGatewayAndRescan: killgw unregisters the gateway (its binding on the internal profile
// goes) and removes it; rescan brings it back from sofia.conf.
func TestKillGatewayAndRescan(t *testing.T) {
	env := newEnv(t, envOpt{gwRegister: true, gw: "127.0.0.1:1"})
	ctx := t.Context()
	g, _ := env.ep.Gateway("gw1")
	g.stop()
	g.cfg.Proxy = env.addr(t, "internal").String()
	g.cfg.RegisterProxy = g.cfg.Proxy
	g.start()
	waitFor(t, "gateway registered", 10*time.Second, func() bool {
		return g.State() == "REGED" && len(env.ep.Contacts("internal", "gwuser", "127.0.0.1")) == 1
	})
	if out, _ := env.h.APIOutput(ctx, "sofia", "profile external killgw"); out != "-ERR missing gw name\n" {
		t.Errorf("killgw without a name: %q", out)
	}
	if out, _ := env.h.APIOutput(ctx, "sofia", "profile external killgw nope"); out != "-ERR no such gateway.\n" {
		t.Errorf("killgw nope: %q", out)
	}
	if out, _ := env.h.APIOutput(ctx, "sofia", "profile external killgw gw1"); out != "+OK gateway marked for deletion.\n" {
		t.Errorf("killgw gw1: %q", out)
	}
	if _, ok := env.ep.Gateway("gw1"); ok {
		t.Error("gw1 still known after killgw")
	}
	if st, _ := env.h.APIOutput(ctx, "sofia", "status"); strings.Contains(st, "gw1") {
		t.Errorf("sofia status still lists gw1:\n%s", st)
	}
	waitFor(t, "gateway unregistered", 5*time.Second, func() bool {
		return len(env.ep.Contacts("internal", "gwuser", "127.0.0.1")) == 0
	})
	if out, _ := env.h.APIOutput(ctx, "sofia", "profile external rescan"); out != "Reload XML [Success]\n+OK scan complete\n" {
		t.Errorf("rescan: %q", out)
	}
	if _, ok := env.ep.Gateway("gw1"); !ok {
		t.Error("rescan did not bring gw1 back")
	}
	if out, _ := env.h.APIOutput(ctx, "sofia", "profile external killgw _all_"); out != "+OK every gateway marked for deletion.\n" {
		t.Errorf("killgw _all_: %q", out)
	}
	if _, ok := env.ep.Gateway("gw1"); ok {
		t.Error("gw1 survived killgw _all_")
	}
}
