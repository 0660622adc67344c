package esl_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// program is the external side of an outbound socket.
func program(t *testing.T) (net.Listener, func() *raw) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, func() *raw {
		t.Helper()
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		return &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
	}
}

func TestOutboundAsyncFull(t *testing.T) {
	e := newEnv(t)
	ln, accept := program(t)
	s := e.waitingSession(t)
	s.ExecuteActions([]core.Action{{App: "socket", Data: ln.Addr().String() + " async full"}})
	r := accept()
	r.send("connect\n\n")
	f := r.frame()
	for _, want := range []string{"\nContent-Type: command/reply\n", "\nReply-Text: %2BOK%0A\n", "\nSocket-Mode: async\n",
		"\nControl: full\n", "\nUnique-ID: " + s.UUID() + "\n", "\nCaller-Caller-ID-Number: 1000\n", "Event-Name: CHANNEL_DATA\n"} {
		if !strings.Contains(f, want) {
			t.Fatalf("connect reply lacks %q:\n%s", want, f)
		}
	}
	r.send("myevents\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n")
	r.send("linger\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK will linger\n\n")
	r.send("getvar socket_host\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: 127.0.0.1\n\n")
	r.send("api esltest_echo full\n\n")
	r.expect("Content-Type: api/response\nContent-Length: 4\n\nfull")
	r.send("sendmsg\ncall-command: execute\nexecute-app-name: esltest_set\nexecute-app-arg: x=1\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK\n\n")
	for {
		_, body, _ := strings.Cut(r.nextEvent(), "\n\n")
		if ev := event.ParsePlain([]byte(body)); ev.Name == event.ChannelExecuteComplete {
			break
		}
	}
	if s.Var("x") != "1" {
		t.Fatalf("x = %q", s.Var("x"))
	}
	r.send("sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK\n\n")
	var notice, complete bool
	for !notice || !complete {
		f := r.nextEvent()
		if strings.HasPrefix(f, "Content-Type: text/disconnect-notice\n") {
			want := "Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + s.UUID() +
				"\nContent-Disposition: linger\nChannel-Name: test/1000\nLinger-Time: -1\nContent-Length: 67\n\n"
			if !strings.HasPrefix(f, want) {
				t.Fatalf("notice %q", f)
			}
			notice = true
			continue
		}
		_, body, _ := strings.Cut(f, "\n\n")
		if ev := event.ParsePlain([]byte(body)); ev.Name == event.ChannelHangupComplete {
			if ev.Get("Hangup-Cause") != "USER_BUSY" {
				t.Fatalf("cause %q", ev.Get("Hangup-Cause"))
			}
			complete = true
		}
	}
	r.send("exit\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK bye\n\n")
}

func TestOutboundStaticRestricted(t *testing.T) {
	e := newEnv(t)
	ln, accept := program(t)
	s := e.waitingSession(t)
	s.ExecuteActions([]core.Action{{App: "socket", Data: ln.Addr().String()}})
	r := accept()
	r.send("connect\n\n")
	if f := r.frame(); !strings.Contains(f, "\nSocket-Mode: static\nControl: single-channel\n") {
		t.Fatalf("connect %q", f)
	}
	for _, cmd := range []string{"api status", "event plain ALL", "linger", "log debug"} {
		r.send(cmd + "\n\n")
		r.expect("Content-Type: command/reply\nReply-Text: -ERR command not found\n\n")
	}
	// static mode: the reply comes once the application has run
	r.send("sendmsg\ncall-command: execute\nexecute-app-name: esltest_set\nexecute-app-arg: y=2\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK\n\n")
	if s.Var("y") != "2" {
		t.Fatalf("y = %q after the reply", s.Var("y"))
	}
	// the program leaves without resume: the channel hangs up
	r.nc.Close()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("channel still up after the socket closed")
	}
}
