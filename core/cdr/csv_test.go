package cdr_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/core/api"
	"github.com/goswitch/goswitch/core/cdr"
	"github.com/goswitch/goswitch/core/xmlconf"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) {
	if os.Getenv("CDR_CRASH_DIR") != "" {
		crashChild()
		return
	}
	goleak.VerifyTestMain(m)
}

const contexts = `<section name="dialplan" description="Regex/XML Dialplan">
<context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="bridge"><condition field="destination_number" expression="^bridge$">
    <action application="bridge" data="${target}"/></condition></extension>
  <extension name="hold"><condition field="destination_number" expression="^hold$">
    <action application="sleep" data="20000"/></condition></extension>
</context>
</section>`

func conf(logBase, legs, tmpl, extra string) string {
	return `<section name="configuration" description="Various Configuration">
  <configuration name="event_socket.conf" description="Socket Client">
    <settings><param name="listen-port" value="0"/></settings>
  </configuration>
  <configuration name="cdr_csv.conf" description="CDR CSV Format">
    <settings>
      <param name="log-base" value="` + logBase + `"/>
      <param name="default-template" value="` + tmpl + `"/>
      <param name="rotate-on-hup" value="true"/>
      <param name="legs" value="` + legs + `"/>
      ` + extra + `
    </settings>
    <templates>
      <template name="sql">INSERT INTO cdr VALUES ("${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}");</template>
      <template name="example">"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"</template>
      <template name="1234">${uuid}|${accountcode}</template>
    </templates>
  </configuration>
</section>`
}

// captured holds every channel's variables as CS_REPORTING saw them, to build the expected lines.
type captured struct {
	mu   sync.Mutex
	rows []map[string]string
}

var fields = []string{"caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
	"answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode",
	"read_codec", "write_codec", "start_epoch", "end_epoch", "answer_epoch"}

func setup(t *testing.T, legs, tmpl, extra string) (*core.Host, string, *captured) {
	t.Helper()
	dir := t.TempDir()
	h := testhost.New(t, testhost.Document(conf(dir, legs, tmpl, extra), contexts), nil)
	c := &captured{}
	h.OnReporting(func(s *core.Session) {
		m := map[string]string{"_originator": fmt.Sprint(s.Originator() != nil)}
		for _, f := range fields {
			m[f] = s.Var(f)
		}
		c.mu.Lock()
		c.rows = append(c.rows, m)
		c.mu.Unlock()
	})
	return h, filepath.Join(dir, "cdr-csv"), c
}

func (c *captured) get(uuid string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rows {
		if r["uuid"] == uuid {
			return r
		}
	}
	return nil
}

var varRef = regexp.MustCompile(`\$\{([a-z_]+)\}`)

func render(tmpl string, vals map[string]string) string {
	return varRef.ReplaceAllStringFunc(tmpl, func(m string) string { return vals[m[2:len(m)-1]] }) + "\n"
}

const sqlTmpl = `INSERT INTO cdr VALUES ("${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}");`

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end in a newline: %q", path, b)
	}
	return strings.SplitAfter(string(b[:len(b)-1]), "\n")
}

// check compares every Master.csv line byte for byte with the template rendered from the
// channel's variables, and returns the lines by uuid.
func check(t *testing.T, dir string, c *captured, tmpl string) map[string]string {
	t.Helper()
	byUUID := map[string]string{}
	for _, l := range readLines(t, filepath.Join(dir, "Master.csv")) {
		if !strings.HasSuffix(l, "\n") {
			l += "\n"
		}
		m := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).FindAllString(l, -1)
		var row map[string]string
		for _, id := range m {
			if row = c.get(id); row != nil && row["uuid"] == id {
				break
			}
		}
		if row == nil {
			t.Fatalf("line without a known channel: %q", l)
		}
		if want := render(tmpl, row); l != want {
			t.Errorf("CDR line:\n got %q\nwant %q", l, want)
		}
		byUUID[row["uuid"]] = l
	}
	return byUUID
}

func TestAnsweredBridgedCall(t *testing.T) {
	h, dir, c := setup(t, "a", "sql", "")
	a0, err := h.Originate(context.Background(), "{target=loopback/9196,accountcode=acct7}loopback/bridge", core.OriginateOptions{CallerIDName: "Alice \"A\"", CallerIDNumber: "1000"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	a0.Hangup(core.CauseNormalClearing)
	testhost.WaitGone(t, h, 5*time.Second)
	lines := check(t, dir, c, sqlTmpl)
	// legs=a: the originate leg, the dialplan half that bridged and the echo half; not the bridge's B-leg.
	if len(lines) != 3 {
		t.Fatalf("%d lines: %v", len(lines), lines)
	}
	b0 := c.get(a0.Var("other_loopback_leg_uuid"))
	if b0 == nil || b0["bleg_uuid"] == "" || b0["answer_stamp"] == "" || b0["hangup_cause"] != "NORMAL_CLEARING" {
		t.Fatalf("bridging channel %v", b0)
	}
	if !strings.Contains(lines[a0.UUID()], `"Alice "A"","1000","bridge","default"`) {
		t.Errorf("quotes must be written raw: %q", lines[a0.UUID()])
	}
	if !strings.HasSuffix(lines[a0.UUID()], `, "acct7");`+"\n") {
		t.Errorf("stray space before accountcode missing: %q", lines[a0.UUID()])
	}
	// per-accountcode file, same template (no template named acct7)
	acct := readLines(t, filepath.Join(dir, "acct7.csv"))
	if len(acct) != 2 {
		t.Errorf("acct7.csv: %q", acct)
	}
	for _, l := range acct {
		l = strings.TrimSuffix(l, "\n") + "\n"
		found := false
		for _, m := range lines {
			found = found || m == l
		}
		if !found {
			t.Errorf("acct7.csv line not in Master.csv: %q", l)
		}
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
	for _, r := range c.rows {
		if !stamp.MatchString(r["start_stamp"]) || !stamp.MatchString(r["end_stamp"]) {
			t.Errorf("stamps not %%Y-%%m-%%d %%T: %v", r)
		}
		if r["answer_stamp"] != "" && (r["billsec"] == "" || r["duration"] == "") {
			t.Errorf("durations missing: %v", r)
		}
	}
	// billsec = end_epoch - answer_epoch (whole seconds), duration = end_epoch - start_epoch
	if b0["billsec"] != itoa(atoi(b0["end_epoch"])-atoi(b0["answer_epoch"])) || b0["duration"] != itoa(atoi(b0["end_epoch"])-atoi(b0["start_epoch"])) {
		t.Errorf("durations: %v", b0)
	}
}

func TestFailedCalls(t *testing.T) {
	for _, tc := range []struct{ target, cause string }{
		{"error/user_busy", "USER_BUSY"},                   // 486
		{"error/unallocated_number", "UNALLOCATED_NUMBER"}, // 404
	} {
		t.Run(tc.cause, func(t *testing.T) {
			h, dir, c := setup(t, "a", "default", "")
			_, err := h.Originate(context.Background(), "{target="+tc.target+"}loopback/bridge", core.OriginateOptions{})
			var ce *core.CallError
			if err == nil || !asCallError(err, &ce) || ce.Cause.String() != tc.cause {
				t.Fatalf("originate: %v", err)
			}
			testhost.WaitGone(t, h, 5*time.Second)
			lines := check(t, dir, c, strings.TrimSuffix(cdr.DefaultTemplate, "\n"))
			if len(lines) != 2 {
				t.Fatalf("lines %v", lines)
			}
			for id, l := range lines {
				r := c.get(id)
				if r["hangup_cause"] != tc.cause || r["answer_stamp"] != "" || r["billsec"] != "0" {
					t.Errorf("row %v", r)
				}
				if !strings.Contains(l, `,"","`+r["end_stamp"]+`","`) {
					t.Errorf("empty answer_stamp expected: %q", l)
				}
			}
		})
	}
}

func asCallError(err error, ce **core.CallError) bool {
	for err != nil {
		if x, ok := err.(*core.CallError); ok {
			*ce = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestCancelledCallAndLegs(t *testing.T) {
	for _, legs := range []string{"a", "b", "ab"} {
		t.Run(legs, func(t *testing.T) {
			h, dir, c := setup(t, legs, "sql", "")
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err := h.Originate(ctx, "{target=loopback/hold}loopback/bridge", core.OriginateOptions{})
			cancel()
			if err == nil {
				t.Fatal("originate succeeded")
			}
			testhost.WaitGone(t, h, 5*time.Second)
			lines := check(t, dir, c, sqlTmpl)
			var a, b int
			var cancelled bool
			for id := range lines {
				r := c.get(id)
				if r["_originator"] == "true" {
					b++
					if r["hangup_cause"] == "ORIGINATOR_CANCEL" { // 487
						cancelled = true
					}
				} else {
					a++
				}
			}
			switch legs {
			case "a":
				if a != 3 || b != 0 {
					t.Errorf("legs=a: %d A, %d B", a, b)
				}
			case "b":
				// b only skips channels that originated another (FreeSWITCH's originatee-profile check).
				if a != 2 || b != 1 || !cancelled {
					t.Errorf("legs=b: %d A, %d B, cancelled %v", a, b, cancelled)
				}
			case "ab":
				if a != 3 || b != 1 || !cancelled {
					t.Errorf("legs=ab: %d A, %d B, cancelled %v", a, b, cancelled)
				}
			}
		})
	}
}

func TestAccountTemplateMasterOnlyAndSkip(t *testing.T) {
	h, dir, c := setup(t, "a", "sql", "")
	_, _ = h.Originate(context.Background(), "{target=error/user_busy,accountcode=1234}loopback/bridge", core.OriginateOptions{})
	_, _ = h.Originate(context.Background(), "{target=error/user_busy,process_cdr=false}loopback/bridge", core.OriginateOptions{})
	_, _ = h.Originate(context.Background(), "{target=error/user_busy,skip_cdr_causes=USER_BUSY|NO_ANSWER}loopback/bridge", core.OriginateOptions{})
	testhost.WaitGone(t, h, 5*time.Second)
	check(t, dir, c, sqlTmpl)
	if n := len(readLines(t, filepath.Join(dir, "Master.csv"))); n != 2 {
		t.Errorf("Master.csv has %d lines, want 2 (process_cdr=false and skip_cdr_causes skip)", n)
	}
	acct := readLines(t, filepath.Join(dir, "1234.csv"))
	if len(acct) != 2 || !regexp.MustCompile(`^[0-9a-f-]{36}\|1234\n$`).MatchString(acct[0]) {
		t.Errorf("1234.csv uses the template named like the accountcode: %q", acct)
	}

	h2, dir2, _ := setup(t, "a", "sql", `<param name="master-file-only" value="true"/>`)
	_, _ = h2.Originate(context.Background(), "{target=error/user_busy,accountcode=1234}loopback/bridge", core.OriginateOptions{})
	testhost.WaitGone(t, h2, 5*time.Second)
	if _, err := os.Stat(filepath.Join(dir2, "1234.csv")); !os.IsNotExist(err) {
		t.Errorf("master-file-only wrote 1234.csv: %v", err)
	}
}

func TestRotate(t *testing.T) {
	h, dir, _ := setup(t, "a", "sql", "")
	_, _ = h.Originate(context.Background(), "{target=error/user_busy}loopback/bridge", core.OriginateOptions{})
	testhost.WaitGone(t, h, 5*time.Second)
	if out := h.RunAPI(context.Background(), "cdr_csv rotate"); out != "+OK" {
		t.Fatalf("cdr_csv rotate: %q", out)
	}
	names := dirNames(t, dir)
	if len(names) != 2 || names[0] != "Master.csv" || !regexp.MustCompile(`^Master\.csv\.\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$`).MatchString(names[1]) {
		t.Fatalf("after rotate: %v", names)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "Master.csv")); fi.Size() != 0 {
		t.Errorf("new Master.csv not empty")
	}
	// SIGHUP reaches the module as a TRAP event (fsctl send_sighup publishes it).
	time.Sleep(1100 * time.Millisecond)
	_, _ = h.Originate(context.Background(), "{target=error/user_busy}loopback/bridge", core.OriginateOptions{})
	testhost.WaitGone(t, h, 5*time.Second)
	if out := h.RunAPI(context.Background(), "fsctl send_sighup"); out != "+OK\n" {
		t.Fatalf("send_sighup: %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(dirNames(t, dir)) != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := dirNames(t, dir); len(n) != 3 {
		t.Fatalf("after SIGHUP: %v", n)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestKill9 runs calls in a child process that SIGKILLs itself as soon as the channels are gone:
// every CDR reported before the crash is in Master.csv (written in CS_REPORTING, before
// CS_DESTROY); only an OS crash could lose the last fsync window.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CDR_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	lines := readLines(t, filepath.Join(dir, "cdr-csv", "Master.csv"))
	// 20 calls, two A-leg channels each (the originate leg and its loopback half).
	if len(lines) != 40 {
		t.Fatalf("%d CDR lines survived, want 40", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "\"USER_BUSY\",\"") && !strings.Contains(l, `"USER_BUSY"`) {
			t.Errorf("torn line %q", l)
		}
	}
}

func crashChild() {
	dir := os.Getenv("CDR_CRASH_DIR")
	h := crashHost(dir)
	h.SetSPS(10000)
	for i := 0; i < 20; i++ {
		_, _ = h.Originate(context.Background(), "{target=error/user_busy}loopback/bridge", core.OriginateOptions{})
	}
	for h.SessionCount() > 0 {
		time.Sleep(time.Millisecond)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
}

func crashHost(dir string) *core.Host {
	doc := testhost.Document(conf(dir, "a", "sql", ""), contexts)
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(doc), 0o644); err != nil {
		panic(err)
	}
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Dirs: core.Dirs{Log: dir},
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
	})
	if err != nil {
		panic(err)
	}
	if err := h.Start(context.Background()); err != nil {
		panic(err)
	}
	return h
}

func TestSQLiteTable(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "cdr.db")
	h, _, c := setup(t, "a", "sql", `<param name="sqlite" value="true"/><param name="sqlite-db" value="`+dbPath+`"/>`)
	_, _ = h.Originate(context.Background(), "{target=error/user_busy,accountcode=42}loopback/bridge", core.OriginateOptions{CallerIDNumber: "1000"})
	testhost.WaitGone(t, h, 5*time.Second)
	m, ok := cdr.FromHost(h)
	if !ok || m.DB() == nil {
		t.Fatal("no sqlite table")
	}
	if err := m.DB().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := m.DB().SQL().Query(`SELECT uuid, hangup_cause, accountcode, billsec, direction FROM cdr ORDER BY start_epoch`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, cause, acct, dir string
		var billsec int
		if err := rows.Scan(&id, &cause, &acct, &billsec, &dir); err != nil {
			t.Fatal(err)
		}
		if c.get(id) == nil || cause != "USER_BUSY" || acct != "42" || billsec != 0 {
			t.Errorf("row %s %s %s %d %s", id, cause, acct, billsec, dir)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
