package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/codecs/g711"
	_ "github.com/goswitch/goswitch/codecs/telephoneevent"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/core/api"
	_ "github.com/goswitch/goswitch/core/esl" // mod_event_socket, which TestShowEmpty expects loaded
	"github.com/goswitch/goswitch/core/event"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	_ "github.com/goswitch/goswitch/endpoints/user"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const config = `<section name="configuration" description="Various Configuration">
  <configuration name="event_socket.conf" description="Socket Client">
    <settings><param name="listen-port" value="0"/></settings>
  </configuration>
</section>
<section name="directory" description="User Directory">
  <domain name="example.com">
    <params><param name="dial-string" value="error/user_not_registered"/></params>
    <user id="1000" number-alias="2000">
      <params><param name="password" value="1234"/></params>
      <variables><variable name="accountcode" value="1000"/><variable name="user_context" value="default"/></variables>
    </user>
  </domain>
</section>`

const contexts = `
<context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="park"><condition field="destination_number" expression="^5000$">
    <action application="answer"/><action application="park"/></condition></extension>
</context>`

func host(t *testing.T) *core.Host {
	return testhost.New(t, testhost.Document(config, testhost.Dialplan(contexts)), nil)
}

func run(t *testing.T, h *core.Host, line string) string {
	t.Helper()
	return h.RunAPI(context.Background(), line)
}

func expect(t *testing.T, h *core.Host, line, want string) {
	t.Helper()
	if got := run(t, h, line); got != want {
		t.Errorf("%s:\n got %q\nwant %q", line, got, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStatusVersion(t *testing.T) {
	h := host(t)
	out := run(t, h, "status")
	re := regexp.MustCompile(`^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?\n` +
		`FreeSWITCH \(Version 1\.10\.12 goswitch [^)]*\) is ready\n` +
		`0 session\(s\) since startup\n` +
		`0 session\(s\) - peak 0, last 5min 0 \n` +
		`0 session\(s\) per Sec out of max 30, peak 0, last 5min 0 \n` +
		`1000 session\(s\) max\n` +
		`min idle cpu \d+\.\d\d/\d+\.\d\d\n` +
		`Current Stack Size/Max \d+K/\d+K\n$`) // no refusal line until a call is refused
	if !re.MatchString(out) {
		t.Errorf("status:\n%s", out)
	}
	expect(t, h, "version short", "1.10.12\n")
	if out := run(t, h, "version"); !strings.HasPrefix(out, "FreeSWITCH Version 1.10.12") || !strings.HasSuffix(out, ")\n") {
		t.Errorf("version %q", out)
	}
	if out := run(t, h, "uptime"); !regexp.MustCompile(`^\d+$`).MatchString(out) {
		t.Errorf("uptime %q", out)
	}
	expect(t, h, "hostname", h.Bus.Identity().Hostname)
	expect(t, h, "switchname", h.Bus.Identity().Switchname)
	expect(t, h, "nosuchcommand", "-ERR nosuchcommand Command not found!\n")
}

func TestShowEmpty(t *testing.T) {
	h := host(t)
	expect(t, h, "show channels", "\n0 total.\n")
	expect(t, h, "show calls", "\n0 total.\n")
	expect(t, h, "show channels count", "\n0 total.\n")
	expect(t, h, "show registrations", "\n0 total.\n")
	expect(t, h, "show channels as json", "{\n\t\"row_count\":\t0\n}")
	expect(t, h, "show channels as xml", "<result row_count=\"0\">\n</result>\n")
	out := run(t, h, "show api")
	if !strings.HasPrefix(out, "name,description,syntax,ikey\n") || !strings.Contains(out, "\nuuid_kill,Kill channel,<uuid> [cause],mod_commands\n") ||
		!regexp.MustCompile(`\n\n\d+ total\.\n$`).MatchString(out) {
		t.Errorf("show api:\n%s", out)
	}
	if out := run(t, h, "show application"); !strings.Contains(out, "\npark,Park,,mod_dptools\n") && !strings.Contains(out, "\npark,") {
		t.Errorf("show application:\n%s", out)
	}
	if out := run(t, h, "show endpoint"); !strings.Contains(out, "endpoint,loopback,mod_loopback\n") {
		t.Errorf("show endpoint:\n%s", out)
	}
	if out := run(t, h, "show codec"); !strings.Contains(out, "codec,G.711 ulaw,CORE_PCM_MODULE\n") ||
		strings.Contains(out, "telephone-event") {
		t.Errorf("show codec (FreeSWITCH's interface names):\n%s", out)
	}
	if out := run(t, h, "show modules"); !strings.Contains(out, "module,mod_commands,mod_commands,built-in\n") {
		t.Errorf("show modules:\n%s", out)
	}
	if out := run(t, h, "show api as delim |"); !strings.HasPrefix(out, "name|description|syntax|ikey\n") {
		t.Errorf("delim: %q", out[:40])
	}
	expect(t, h, "module_exists mod_event_socket", "true")
	expect(t, h, "module_exists mod_nope", "false")
}

func TestOriginateShowKill(t *testing.T) {
	h := host(t)
	out := run(t, h, "originate loopback/9196 &park")
	m := regexp.MustCompile(`^\+OK ([0-9a-f-]{36})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("originate: %q", out)
	}
	id := m[1]
	s, ok := h.Session(id)
	if !ok {
		t.Fatal("originated channel not found")
	}
	waitFor(t, "park", func() bool { return s.State() == core.StatePark })
	expect(t, h, "uuid_exists "+id, "true")
	out = run(t, h, "show channels")
	lines := strings.Split(out, "\n")
	if lines[0] != "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context" {
		t.Fatalf("header %q", lines[0])
	}
	if !strings.HasSuffix(out, "\n\n2 total.\n") || !strings.Contains(out, id+",outbound,") || !strings.Contains(out, ",CS_PARK,") {
		t.Fatalf("show channels:\n%s", out)
	}
	var js struct {
		RowCount int                 `json:"row_count"`
		Rows     []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(run(t, h, "show channels as json")), &js); err != nil || js.RowCount != 2 || len(js.Rows) != 2 {
		t.Fatalf("json %v %+v", err, js)
	}
	if out := run(t, h, "show channels like "+id[:8]); !strings.HasSuffix(out, "\n1 total.\n") {
		t.Errorf("like: %s", out)
	}
	// The loopback halves are not bridged to each other, so each is a call of its own, as in FreeSWITCH.
	if out := run(t, h, "show calls"); !strings.HasSuffix(out, "\n2 total.\n") || !strings.HasPrefix(out, "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,presence_id,presence_data,callstate,callee_name,callee_num,callee_direction,call_uuid,hostname,sent_callee_name,sent_callee_num,b_uuid,") {
		t.Errorf("show calls:\n%s", out)
	}
	expect(t, h, "uuid_setvar "+id+" foo bar baz", "+OK\n")
	expect(t, h, "uuid_getvar "+id+" foo", "bar baz")
	expect(t, h, "uuid_setvar_multi "+id+" a=1;b=2", "+OK\n")
	expect(t, h, "uuid_getvar "+id+" b", "2")
	expect(t, h, "uuid_getvar "+id+" nope", "_undef_")
	expect(t, h, "eval uuid:"+id+" ${a}-${foo}", "1-bar baz")
	if out := run(t, h, "uuid_dump "+id); !strings.Contains(out, "Unique-ID: "+id+"\n") || !strings.Contains(out, "variable_foo: bar baz\n") {
		t.Errorf("uuid_dump:\n%s", out)
	}
	if out := run(t, h, "uuid_dump "+id+" json"); !strings.Contains(out, `"variable_foo":"bar baz"`) {
		t.Errorf("uuid_dump json:\n%s", out)
	}
	expect(t, h, "uuid_kill 00000000-0000-0000-0000-000000000000", "-ERR No such channel!\n")
	expect(t, h, "uuid_kill "+id, "+OK\n")
	testhost.WaitGone(t, h, 5*time.Second)
	expect(t, h, "uuid_exists "+id, "false")
}

func TestOriginateFailures(t *testing.T) {
	h := host(t)
	expect(t, h, "originate error/user_busy &park", "-ERR USER_BUSY\n")
	expect(t, h, "originate error/NO_ANSWER 5000", "-ERR NO_ANSWER\n")
	expect(t, h, "originate user/1000@example.com &park", "-ERR USER_NOT_REGISTERED\n")
	expect(t, h, "originate", "-USAGE: originate <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")
}

func TestOriginateExtenAndInline(t *testing.T) {
	h := host(t)
	out := run(t, h, "originate {origination_caller_id_number=555}loopback/9196 5000 XML default Bob 777")
	id := strings.TrimSpace(strings.TrimPrefix(out, "+OK "))
	s, ok := h.Session(id)
	if !ok {
		t.Fatalf("originate: %q", out)
	}
	waitFor(t, "park after transfer", func() bool { return s.State() == core.StatePark })
	if p := s.Profile(); p.DestNumber != "5000" || p.CallerIDNumber != "555" {
		t.Errorf("profile %+v", p)
	}
	out = run(t, h, "originate loopback/9196 'set:x=1,park' inline")
	id2 := strings.TrimSpace(strings.TrimPrefix(out, "+OK "))
	s2, ok := h.Session(id2)
	if !ok {
		t.Fatalf("inline originate: %q", out)
	}
	waitFor(t, "inline park", func() bool { return s2.State() == core.StatePark && s2.Var("x") == "1" })
	expect(t, h, "hupall", "+OK hangup all channels with cause MANAGER_REQUEST\n")
	testhost.WaitGone(t, h, 5*time.Second)
}

func TestBgapi(t *testing.T) {
	h := host(t)
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.BackgroundJob }, 4)
	defer sub.Close()
	out := run(t, h, "bgapi originate error/user_busy &park")
	m := regexp.MustCompile(`^\+OK Job-UUID: ([0-9a-f-]{36})\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bgapi %q", out)
	}
	select {
	case e := <-sub.C():
		if e.Get("Job-UUID") != m[1] || e.Get("Job-Command") != "originate" || e.Get("Job-Command-Arg") != "error/user_busy &park" || e.Body != "-ERR USER_BUSY\n" {
			t.Fatalf("job event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no BACKGROUND_JOB")
	}
}

func TestGlobalsEvalHelpers(t *testing.T) {
	h := host(t)
	expect(t, h, "global_setvar myvar=hello=world", "+OK")
	expect(t, h, "global_getvar myvar", "hello=world")
	expect(t, h, "global_getvar domain", "test.local")
	expect(t, h, "eval $${domain} ${myvar}", "test.local hello=world")
	expect(t, h, "expand echo ${domain}", "test.local")
	expect(t, h, "echo hi there", "hi there")
	expect(t, h, "md5 hello", "5d41402abc4b2a76b9719d911017c592")
	expect(t, h, "regex 1234|^(\\d\\d)(\\d+)$|$2-$1", "34-12")
	expect(t, h, "regex 1234|^\\d+$", "true")
	expect(t, h, "regex abc|^\\d+$", "false")
	expect(t, h, "regex m:~a|b~^a\\|(.)$~$1", "b")
	expect(t, h, "cond 1 == 1 ? yes : no", "yes")
	expect(t, h, "cond 10 > 9 ? yes : no", "yes")
	expect(t, h, "cond 'a' == 'b' ? yes : no", "no")
	expect(t, h, "expr 1+2*3", "7")
	expect(t, h, "expr (1+2)*3/2", "4.5")
	expect(t, h, "hash insert/realm/k/v1", "+OK\n")
	expect(t, h, "hash select/realm/k", "v1")
	expect(t, h, "hash delete/realm/k", "+OK\n")
	expect(t, h, "hash select/realm/k", "-ERR no reply\n")
	expect(t, h, "user_exists id 1000 example.com", "true")
	expect(t, h, "user_exists id 1001 example.com", "false")
	expect(t, h, "domain_exists example.com", "true")
	expect(t, h, "user_data 1000@example.com var accountcode", "1000")
	expect(t, h, "user_data 1000@example.com param password", "1234")
	expect(t, h, "user_data 1000@example.com attr number-alias", "2000")
	expect(t, h, "strftime 0|%Y", time.Unix(0, 0).Local().Format("2006"))
	expect(t, h, "strepoch 1970-01-02 00:00:00", func() string {
		tm, _ := time.ParseInLocation("2006-01-02 15:04:05", "1970-01-02 00:00:00", time.Local)
		return strings.TrimSpace(strings.Repeat(" ", 0) + itoa(tm.Unix()))
	}())
	if out := run(t, h, "create_uuid"); !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(out) {
		t.Errorf("create_uuid %q", out)
	}
}

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func TestFsctlConsole(t *testing.T) {
	h := host(t)
	expect(t, h, "fsctl max_sessions 2000", "+OK max sessions: 2000\n")
	expect(t, h, "fsctl sps 50", "+OK sessions-per-second: 50\n")
	expect(t, h, "fsctl loglevel debug", "+OK log level: DEBUG [7]\n")
	expect(t, h, "console loglevel 4", "+OK console log level set to WARNING\n")
	expect(t, h, "fsctl loglevel", "+OK log level: WARNING [4]\n")
	expect(t, h, "fsctl pause", "+OK\n")
	if !h.Paused() {
		t.Error("not paused")
	}
	expect(t, h, "originate loopback/9196 &park", "-ERR SWITCH_CONGESTION\n")
	expect(t, h, "fsctl resume", "+OK\n")
	expect(t, h, "fsctl bogus", "-ERR INVALID COMMAND\nUSAGE: fsctl "+mustSyntax("fsctl")+"\n")
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.ShutdownRequested }, 1)
	defer sub.Close()
	expect(t, h, "fsctl shutdown elegant", "+OK\n")
	select {
	case e := <-sub.C():
		if e.Get("Shutdown-Mode") != "elegant" {
			t.Errorf("mode %q", e.Get("Shutdown-Mode"))
		}
	case <-time.After(time.Second):
		t.Error("no SHUTDOWN_REQUESTED")
	}
}

func mustSyntax(name string) string {
	a, _ := core.LookupAPI(name)
	return a.Syntax
}

func TestReloadXML(t *testing.T) {
	h := host(t)
	expect(t, h, "reloadxml", "+OK [Success]\n")
	bad := testhost.Document(config, testhost.Dialplan(contexts+"\n<context name=\"broken\">\n<extension>\n</context>"))
	if err := os.WriteFile(filepath.Join(h.Dirs.Conf, "freeswitch.xml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, h, "reloadxml")
	if !strings.HasPrefix(out, "-ERR [") || !strings.Contains(out, "freeswitch.xml:") {
		t.Errorf("broken reloadxml: %q", out)
	}
}

func TestConsoleComplete(t *testing.T) {
	h := host(t)
	expect(t, h, "console_complete uuid_ki", "\n\n[           uuid_kill]\t\n\nwrite=7:uuid_kill ")
	expect(t, h, "console_complete show chan", "\n\n[            channels]\t\n\nwrite=4:channels ")
	out := run(t, h, "console_complete c=6;uuid_sxxx")
	if !strings.Contains(out, "uuid_send_dtmf") || !strings.Contains(out, "uuid_setvar") || !strings.HasSuffix(out, "\n\nwrite=6:uuid_se") {
		t.Errorf("complete:\n%q", out)
	}
}

func TestHeartbeat(t *testing.T) {
	doc := testhost.Document(strings.Replace(config, `<configuration name="event_socket.conf"`,
		`<configuration name="switch.conf" description="Core"><settings><param name="event-heartbeat-interval" value="1"/></settings></configuration>
  <configuration name="event_socket.conf"`, 1), testhost.Dialplan(contexts))
	h := testhost.New(t, doc, nil)
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.Heartbeat }, 4)
	defer sub.Close()
	select {
	case e := <-sub.C():
		if e.Get("Event-Info") != "System Ready" || !strings.HasPrefix(e.Get("Up-Time"), "0 years, 0 days, 0 hours, 0 minutes, ") ||
			e.Get("Max-Sessions") != "1000" || e.Get("Session-Count") != "0" {
			t.Fatalf("heartbeat %+v", e.Headers)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no HEARTBEAT")
	}
}

func TestBroadcastAndBreak(t *testing.T) {
	h := host(t)
	id := strings.TrimSpace(strings.TrimPrefix(run(t, h, "originate loopback/9196 &park"), "+OK "))
	s, ok := h.Session(id)
	if !ok {
		t.Fatal("no channel")
	}
	waitFor(t, "park", func() bool { return s.State() == core.StatePark })
	sub := h.Bus.Subscribe(func(e *event.Event) bool {
		return e.UniqueID() == id && (e.Name == event.ChannelExecute || e.Name == event.ChannelExecuteComplete) && e.Get("Application") == "sleep"
	}, 4)
	defer sub.Close()
	expect(t, h, "uuid_broadcast "+id+" sleep::20000", "+OK Message sent\n")
	select {
	case <-sub.C(): // started
	case <-time.After(5 * time.Second):
		t.Fatal("sleep did not start")
	}
	start := time.Now()
	expect(t, h, "uuid_break "+id, "+OK\n")
	select {
	case <-sub.C():
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("break took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("uuid_break did not interrupt the broadcast application")
	}
	expect(t, h, "uuid_kill "+id, "+OK\n")
	testhost.WaitGone(t, h, 5*time.Second)
}
