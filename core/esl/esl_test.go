package esl_test

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/esl/wire"
	"github.com/goswitch/goswitch/core/event"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestAuthTimeout(t *testing.T) {
	e := newEnv(t)
	e.srv.SetAuthTimeout(200 * time.Millisecond)
	r := e.dialRaw(t)
	r.expect("Content-Type: auth/request\n\n")
	r.expect("Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n")
	if _, err := r.r.ReadByte(); err == nil {
		t.Fatal("connection still open after the auth timeout")
	}
}

func TestACLRejects(t *testing.T) {
	registerTestApps()
	e := newEnv(t)
	cfg := e.srv.Config()
	cfg.ACL = []string{"192.0.2.0/24"}
	srv := esl.NewServer(e.h, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln)
	defer srv.Stop(t.Context())
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := &raw{t: t, nc: nc}
	r.r = newReader(nc)
	r.expect("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n")
}

func TestTranscriptBgapi(t *testing.T) {
	e := newEnv(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("event plain BACKGROUND_JOB\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	r.send("bgapi esltest_echo done\nJob-UUID: 7f4db78a-17d7-11dd-b7a0-db4edd065621\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK Job-UUID: 7f4db78a-17d7-11dd-b7a0-db4edd065621\nJob-UUID: 7f4db78a-17d7-11dd-b7a0-db4edd065621\n\n")
	f := r.frame()
	head, body, _ := strings.Cut(f, "\n\n")
	if !strings.HasPrefix(head, "Content-Length: ") || !strings.HasSuffix(head, "\nContent-Type: text/event-plain") {
		t.Fatalf("event frame head %q", head)
	}
	ev := event.ParsePlain([]byte(body))
	if ev.Name != "BACKGROUND_JOB" || ev.Get("Job-UUID") != "7f4db78a-17d7-11dd-b7a0-db4edd065621" ||
		ev.Get("Job-Command") != "esltest_echo" || ev.Get("Job-Command-Arg") != "done" || ev.Body != "done" {
		t.Fatalf("event %+v", ev)
	}
	if !strings.HasSuffix(body, "Job-Command: esltest_echo\nJob-Command-Arg: done\nContent-Length: 4\n\ndone") {
		t.Fatalf("body %q", body)
	}
	if !strings.HasPrefix(body, "Event-Name: BACKGROUND_JOB\nCore-UUID: "+e.h.CoreUUID+"\nFreeSWITCH-Hostname: testhost\nFreeSWITCH-Switchname: testswitch\n") {
		t.Fatalf("core headers %q", body)
	}
}

func fire(e *env, subclass string, kv ...string) {
	ev := e.h.Bus.New(event.Custom, subclass)
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Add(kv[i], kv[i+1])
	}
	e.h.Bus.Publish(ev)
}

func TestTranscriptEventFormats(t *testing.T) {
	e := newEnv(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("event plain\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR no keywords supplied\n\n")
	r.send("event plain CUSTOM test::one\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	fire(e, "test::other", "X", "skip")
	fire(e, "test::one", "Caller-Caller-ID-Name", "Alice Smith")
	f := r.frame()
	if !strings.Contains(f, "\nEvent-Subclass: test%3A%3Aone\nCaller-Caller-ID-Name: Alice%20Smith\n\n") {
		t.Fatalf("plain frame %q", f)
	}
	head, body, _ := strings.Cut(f, "\n\n")
	if head != "Content-Length: "+strconv.Itoa(len(body))+"\nContent-Type: text/event-plain" {
		t.Fatalf("head %q", head)
	}

	r.send("event json CUSTOM test::one\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled json\n\n")
	fire(e, "test::one", "Caller-Caller-ID-Name", "Alice Smith")
	f = r.frame()
	head, body, _ = strings.Cut(f, "\n\n")
	if head != "Content-Length: "+strconv.Itoa(len(body))+"\nContent-Type: text/event-json" {
		t.Fatalf("head %q", head)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("json %q: %v", body, err)
	}
	if m["Event-Subclass"] != "test::one" || m["Caller-Caller-ID-Name"] != "Alice Smith" {
		t.Fatalf("json %v", m)
	}

	r.send("event xml all\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled xml\n\n")
	fire(e, "test::zzz", "K", "a<b")
	f = r.frame()
	head, body, _ = strings.Cut(f, "\n\n")
	if head != "Content-Length: "+strconv.Itoa(len(body))+"\nContent-Type: text/event-xml" ||
		!strings.HasPrefix(body, "<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n") ||
		!strings.HasSuffix(body, "    <K>a%3Cb</K>\n  </headers>\n</event>") {
		t.Fatalf("xml frame %q", f)
	}

	r.send("nixevent ALL\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK events nixed\n\n")
	r.send("noevents\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK no longer listening for events\n\n")
	r.send("noevents\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR not listening for events\n\n")
}

func TestTranscriptFilter(t *testing.T) {
	e := newEnv(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("filter Unique-ID\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR invalid syntax\n\n")
	r.send("event plain ALL\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	r.send("filter Unique-ID abc\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK filter added. [Unique-ID]=[abc]\n\n")
	r.send("filter Caller-Destination-Number /^9[0-9]+$/\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK filter added. [Caller-Destination-Number]=[/^9[0-9]+$/]\n\n")
	r.send("filter X-Block -yes\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK filter added. [X-Block]=[-yes]\n\n")
	fire(e, "t::a", "Unique-ID", "zzz", "N", "1")
	fire(e, "t::a", "Unique-ID", "ABC", "N", "2")
	fire(e, "t::a", "Caller-Destination-Number", "9196", "N", "3")
	fire(e, "t::a", "Unique-ID", "abc", "X-Block", "yes", "N", "4")
	fire(e, "t::a", "Caller-Destination-Number", "1000", "N", "5")
	r.send("filter delete Caller-Destination-Number\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK filter deleted. [Caller-Destination-Number]=[]\n\n")
	fire(e, "t::a", "Caller-Destination-Number", "9197", "N", "6")
	r.send("filter delete all\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK filter deleted. [all]=[]\n\n")
	fire(e, "t::a", "N", "7")
	var got []string
	for len(got) < 3 {
		f := r.nextEvent()
		_, body, _ := strings.Cut(f, "\n\n")
		ev := event.ParsePlain([]byte(body))
		if ev.Name != event.Custom {
			continue
		}
		got = append(got, ev.Get("N"))
	}
	if strings.Join(got, ",") != "2,3,7" {
		t.Fatalf("filtered events %v, want 2,3,7", got)
	}
}

func TestTranscriptLog(t *testing.T) {
	e := newEnv(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("nolog\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR not loging\n\n")
	r.send("log bogus\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR invalid log level\n\n")
	r.send("log 4\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK log level 4 [4]\n\n")
	r.send("api esltest_log hello log\n\n")
	f1 := r.frame()
	f2 := r.frame()
	logf, api := f1, f2
	if strings.HasPrefix(f1, "Content-Type: api/response") {
		logf, api = f2, f1
	}
	if api != "Content-Type: api/response\nContent-Length: 4\n\n+OK\n" {
		t.Fatalf("api %q", api)
	}
	head, body, _ := strings.Cut(logf, "\n\n")
	wantHead := "Content-Type: log/data\nContent-Length: " + strconv.Itoa(len(body)) +
		"\nLog-Level: 4\nText-Channel: 3\nLog-File: helpers_test.go\nLog-Func: "
	if !strings.HasPrefix(head, wantHead) || !strings.HasSuffix(head, "\nUser-Data: 0b3e6a30-0000-4000-8000-000000000001") {
		t.Fatalf("log head %q", head)
	}
	if !strings.Contains(body, " [WARNING] helpers_test.go:") || !strings.HasSuffix(body, " hello log\n") {
		t.Fatalf("log body %q", body)
	}
	r.send("log\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK log level  [7]\n\n")
	r.send("nolog\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK no longer logging\n\n")
}

func TestTranscriptSendevent(t *testing.T) {
	e := newEnv(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("event plain CUSTOM my::ev\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	r.send("sendevent CUSTOM\nEvent-Subclass: my::ev\nEvent-UUID: 11111111-2222-3333-4444-555555555555\nFoo: bar\nContent-Length: 5\n\nhello")
	r.expect("Content-Type: command/reply\nReply-Text: +OK 11111111-2222-3333-4444-555555555555\n\n")
	f := r.frame()
	_, body, _ := strings.Cut(f, "\n\n")
	ev := event.ParsePlain([]byte(body))
	if ev.Subclass != "my::ev" || ev.Get("Foo") != "bar" || ev.Body != "hello" {
		t.Fatalf("event %q", body)
	}
}

func TestTranscriptSendmsg(t *testing.T) {
	e := newEnv(t)
	s := e.waitingSession(t)
	r := e.dialRaw(t)
	r.auth()
	r.send("sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: -ERR invalid session id [00000000-0000-0000-0000-000000000000]\n\n")
	r.send("myevents " + s.UUID() + "\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n")
	r.send("sendmsg " + s.UUID() + "\ncall-command: execute\nexecute-app-name: esltest_set\nexecute-app-arg: foo=bar baz\nloops: 2\nevent-lock: true\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK\n\n")
	r.send("sendmsg " + s.UUID() + "\ncall-command: nomedia\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: -ERR nomedia is not supported: goswitch always anchors media\n\n")
	var executes int
	for executes < 2 {
		_, body, _ := strings.Cut(r.nextEvent(), "\n\n")
		ev := event.ParsePlain([]byte(body))
		if ev.UniqueID() != s.UUID() {
			t.Fatalf("myevents delivered another channel's event %q", body)
		}
		if ev.Name == event.ChannelExecuteComplete {
			executes++
		}
	}
	if got := s.Var("foo"); got != "bar baz" {
		t.Fatalf("foo = %q", got)
	}
	r.send("sendmsg " + s.UUID() + "\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n")
	r.expectReply("Content-Type: command/reply\nReply-Text: +OK\n\n")
	for {
		_, body, _ := strings.Cut(r.nextEvent(), "\n\n")
		ev := event.ParsePlain([]byte(body))
		if ev.Name == event.ChannelHangup {
			if ev.Get("Hangup-Cause") != "USER_BUSY" {
				t.Fatalf("cause %q", ev.Get("Hangup-Cause"))
			}
			break
		}
	}
}

func TestClient(t *testing.T) {
	e := newEnv(t)
	if _, err := wire.Dial(e.addr, "", "wrong", 5*time.Second); err == nil {
		t.Fatal("wrong password accepted")
	}
	c, err := wire.Dial(e.addr, "", "ClueCon", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := c.API("esltest_echo via client")
	if err != nil || out != "via client" {
		t.Fatalf("api %q %v", out, err)
	}
	f, err := c.Send("event json CUSTOM c::x")
	if err != nil || f.ReplyText() != "+OK event listener enabled json" {
		t.Fatalf("event %v %v", f, err)
	}
	fire(e, "c::x", "A", "1")
	select {
	case f := <-c.Frames():
		if f.Type() != "text/event-json" || !strings.Contains(f.Body, `"A":"1"`) {
			t.Fatalf("frame %+v", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	f, err = c.Send("exit")
	if err != nil || f.ReplyText() != "+OK bye" {
		t.Fatalf("exit %v %v", f, err)
	}
	select {
	case f := <-c.Frames():
		if f.Type() != "text/disconnect-notice" {
			t.Fatalf("frame %+v", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect notice")
	}
}

func TestSlowClientNeverBlocks(t *testing.T) {
	e := newEnv(t)
	cfg := e.srv.Config()
	cfg.QueueSize = 16
	srv := esl.NewServer(e.h, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln)
	defer srv.Stop(t.Context())
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := &raw{t: t, nc: nc, r: newReader(nc)}
	r.auth()
	r.send("event plain ALL\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
	// The client stops reading; publishing must still be instant.
	start := time.Now()
	big := strings.Repeat("x", 4096)
	for i := 0; i < 20000; i++ {
		fire(e, "slow::x", "Payload", big)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("publishing took %v", d)
	}
	st := srv.Stats()
	if len(st) != 1 || st[0].Dropped == 0 {
		t.Fatalf("stats %+v", st)
	}
	// drops are visible to operators too (the e.srv listener of this host is idle)
	if out := e.h.RunAPI(t.Context(), "esl_status"); !strings.HasPrefix(out, "id,remote,mode,format,queued,dropped,log_queued,log_dropped,session,connected\n") {
		t.Fatalf("esl_status %q", out)
	}
	_ = core.CauseNormalClearing
}
