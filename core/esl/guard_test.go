package esl_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// greets dials the event socket from src and reports whether it got the auth/request greeting
// (a refused connection is closed without one).
func greets(t *testing.T, addr, src string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, false // a refused connection may be reset before connect returns
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	nc.SetReadDeadline(time.Time{})
	return nc, err == nil && line == "Content-Type: auth/request\n"
}

// TestInboundConnectionCaps: max-connections-per-source refuses a source's connections over
// the cap while another source is still served, and frees the slot when one closes;
// max-connections caps the total.
func TestInboundConnectionCaps(t *testing.T) {
	conf := strings.Replace(confXML, `<param name="password" value="ClueCon"/>`,
		`<param name="password" value="ClueCon"/><param name="max-connections-per-source" value="3"/>
		<param name="max-connections" value="5"/>`, 1)
	e := newEnvConf(t, conf)
	var first net.Conn
	for i := 0; i < 3; i++ {
		nc, ok := greets(t, e.addr, "127.0.0.1")
		if !ok {
			t.Fatalf("connection %d from 127.0.0.1 not greeted", i+1)
		}
		if i == 0 {
			first = nc
		}
	}
	if _, ok := greets(t, e.addr, "127.0.0.1"); ok {
		t.Fatal("4th connection from 127.0.0.1 greeted over max-connections-per-source=3")
	}
	if _, ok := greets(t, e.addr, "127.0.0.2"); !ok {
		t.Fatal("another source not served while 127.0.0.1 is at its cap")
	}
	if _, ok := greets(t, e.addr, "127.0.0.3"); !ok {
		t.Fatal("5th connection in total not served")
	}
	if _, ok := greets(t, e.addr, "127.0.0.4"); ok {
		t.Fatal("6th connection greeted over max-connections=5")
	}
	first.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, ok := greets(t, e.addr, "127.0.0.1"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot not freed after a connection closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := e.h.RunAPI(t.Context(), "esl_status"); !strings.Contains(st, "inbound connections: 5 open, ") || !strings.Contains(st, "(caps 5/3 per source)") {
		t.Errorf("esl_status:\n%s", st)
	}
}
