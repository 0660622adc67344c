package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var metricsURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/metrics`)

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	return string(b)
}

func sample(body, name string) float64 {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// goswitch -metrics serves /metrics and pprof on loopback; the session counters move with a call.
func TestDaemonMetricsListener(t *testing.T) {
	d := startConsoleDaemon(t, "-metrics", "127.0.0.1:0")
	url := metricsURL.FindString(d.out.String())
	if url == "" {
		t.Fatalf("no metrics URL logged:\n%s", d.out.String())
	}
	before := sample(get(t, url), "goswitch_sessions_total")
	d.call()
	body := get(t, url)
	if after := sample(body, "goswitch_sessions_total"); after < before+2 { // loopback: two legs
		t.Errorf("goswitch_sessions_total %v -> %v", before, after)
	}
	if sample(body, "goswitch_sessions") < 2 || sample(body, "go_goroutines") <= 0 {
		t.Errorf("no live sessions or Go metrics:\n%.2000s", body)
	}
	if p := get(t, strings.TrimSuffix(url, "/metrics")+"/debug/pprof/"); !strings.Contains(p, "heap") {
		t.Errorf("pprof index: %.300q", p)
	}
	d.cmd("hupall")
	d.signal(os.Interrupt)
	d.wait(10 * time.Second)
}

// A metrics address off loopback is refused without -insecure, as ESL's ClueCon is; off disables.
func TestDaemonMetricsRefusesPublicBind(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	os.MkdirAll(confDir, 0o755)
	os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(minimalConf), 0o644)
	cmd := exec.Command(os.Args[0], "-nc", "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"), "-metrics", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "not loopback") {
		t.Fatalf("goswitch -metrics 0.0.0.0:0: %v\n%s", err, out)
	}

	d := startConsoleDaemon(t, "-metrics", "off")
	if strings.Contains(d.out.String(), "metrics listening") {
		t.Error("-metrics off still listens")
	}
	d.signal(os.Interrupt)
	d.wait(10 * time.Second)
}

// switch.conf memory-limit-mb sets the Go runtime's memory limit (visible as
// go_gc_gomemlimit_bytes) when GOMEMLIMIT is not in the environment.
func TestDaemonMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT set in the environment")
	}
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	os.MkdirAll(confDir, 0o755)
	conf := strings.Replace(minimalConf, `<section name="configuration" description="Various Configuration">`,
		`<section name="configuration" description="Various Configuration">
    <configuration name="switch.conf"><settings>
      <param name="metrics-listen" value="127.0.0.1:0"/><param name="memory-limit-mb" value="640"/>
    </settings></configuration>`, 1)
	os.WriteFile(filepath.Join(confDir, "freeswitch.xml"), []byte(conf), 0o644)
	out := &lockedBuffer{}
	cmd := exec.Command(os.Args[0], "-conf", confDir, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"))
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	waitFor(t, out, "goswitch ready")
	url := metricsURL.FindString(out.String())
	if url == "" {
		t.Fatalf("switch.conf metrics-listen not used:\n%s", out.String())
	}
	if got := sample(get(t, url), "go_gc_gomemlimit_bytes"); got != 640<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want %d", got, 640<<20)
	}
}
