package main

import (
	"bytes"
	"github.com/goswitch/goswitch/internal/peer"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/core/api"
	"github.com/goswitch/goswitch/core/esl"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	"github.com/goswitch/goswitch/internal/testhost"
	"go.uber.org/goleak"
)

const doc = `<section name="configuration" description="Various Configuration">
  <configuration name="event_socket.conf" description="Socket Client">
    <settings><param name="listen-port" value="0"/><param name="password" value="s3cret"/></settings>
  </configuration>
</section>
<section name="dialplan" description="Regex/XML Dialplan">
<context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/></condition></extension>
</context>
</section>`

// TestMain doubles as the gs_cli binary for the pseudo-terminal test (GS_CLI_ARGS set), which
// saves building it.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("GS_CLI_ARGS"); ok {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// server starts a host with an event socket on 127.0.0.1:0 and returns it with the port.
func server(t *testing.T) (*core.Host, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	h := testhost.New(t, testhost.Document(doc), nil)
	srv, ok := esl.FromHost(h)
	if !ok {
		t.Fatal("no event socket")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return h, port
}

func cli(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestExecute(t *testing.T) {
	h, port := server(t)
	out, errs, code := cli(t, "", "-H", "127.0.0.1", "-P", port, "-p", "s3cret", "-x", "status")
	if code != 0 || !strings.HasPrefix(out, "UP 0 years, 0 days") || !strings.HasSuffix(out, "K\n\n") {
		t.Fatalf("status: %d %q %q", code, out, errs)
	}
	out, _, _ = cli(t, "", "-P", port, "-p", "s3cret", "-x", "show channels")
	if out != "\n0 total.\n\n" {
		t.Fatalf("show channels %q", out)
	}
	out, _, _ = cli(t, "", "-P", port, "-p", "s3cret", "-x", "originate loopback/9196 &park")
	m := regexp.MustCompile(`^\+OK ([0-9a-f-]{36})\n\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("originate %q", out)
	}
	out, _, _ = cli(t, "", "-P", port, "-p", "s3cret", "-x", "show channels count")
	if out != "\n2 total.\n\n" {
		t.Fatalf("count %q", out)
	}
	out, _, _ = cli(t, "", "-P", port, "-p", "s3cret", "-x", "uuid_kill "+m[1], "-x", "uuid_exists "+m[1])
	if !strings.HasPrefix(out, "+OK\n\n") {
		t.Fatalf("uuid_kill %q", out)
	}
	testhost.WaitGone(t, h, 5*time.Second)

	_, errs, code = cli(t, "", "-P", port, "-p", "wrong", "-x", "status")
	if code != 1 || !strings.Contains(errs, "Error Connecting") {
		t.Fatalf("bad password: %d %q", code, errs)
	}
}

func TestProfile(t *testing.T) {
	_, port := server(t)
	home := os.Getenv("HOME")
	conf := "[default]\nhost => 127.0.0.1\n\n[lab]\nport => " + port + "\npassword => s3cret\n"
	if err := os.WriteFile(filepath.Join(home, ".gs_cli_conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, "", "-x", "version short", "lab")
	if code != 0 || out != "1.10.12\n\n" {
		t.Fatalf("profile: %d %q %q", code, out, errs)
	}
}

func TestBatchInteractive(t *testing.T) {
	_, port := server(t)
	out, errs, code := cli(t, "version short\n/log info\n/uuid abc\n/help\n/quit\n", "-P", port, "-p", "s3cret", "-b", "-q")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	for _, want := range []string{"GS CLI Ready.", "1.10.12\n", "+OK log level info [6]\n", "UUID filtering enabled\n", "/logfilter"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// TestTmux drives the real binary in a pseudo-terminal: tab completion through console_complete,
// history recall with the up arrow, and /quit.
func TestTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		peer.Missing(t, "tmux not installed")
	}
	_, port := server(t)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := "gscli" + port
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil && args[0] != "kill-server" {
			t.Fatalf("tmux %v: %v %s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50",
		"env HOME="+os.Getenv("HOME")+" GS_CLI_ARGS='-P\x1f"+port+"\x1f-p\x1fs3cret\x1f-q' "+bin+"; sleep 30")
	defer tmux("kill-server")
	screen := func() string { return tmux("capture-pane", "-p", "-t", name) }
	waitScreen := func(what string, re *regexp.Regexp) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen()
			if re.MatchString(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; screen:\n%s", what, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitScreen("prompt", regexp.MustCompile(`(?m)goswitch@\S+>\s*$`))
	tmux("send-keys", "-t", name, "stat", "Tab")
	waitScreen("completion", regexp.MustCompile(`(?m)goswitch@\S+> status\s*$`))
	tmux("send-keys", "-t", name, "Enter")
	waitScreen("status output", regexp.MustCompile(`(?m)^UP 0 years`))
	tmux("send-keys", "-t", name, "Up")
	waitScreen("history", regexp.MustCompile(`(?m)goswitch@\S+> status\s*$`))
	tmux("send-keys", "-t", name, "C-u", "/quit", "Enter")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tmux("list-panes", "-t", name, "-F", "#{pane_current_command}"), "sleep") {
		if time.Now().After(deadline) {
			t.Fatalf("gs_cli did not exit on /quit:\n%s", screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	hist, _ := os.ReadFile(filepath.Join(os.Getenv("HOME"), ".gs_cli_history"))
	if !strings.Contains(string(hist), "status\n") {
		t.Errorf("history file: %q", hist)
	}
}
