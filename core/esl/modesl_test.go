package esl_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// TestModesl runs modesl 1.2.1 (npm), a third-party ESL client library, against the server:
// auth, api, bgapi with its BACKGROUND_JOB, `event json`, sendevent with a body, and a JSON api
// result. It installs the package into a temporary directory and skips without node/npm or the
// registry.
func TestModesl(t *testing.T) {
	if testing.Short() {
		t.Skip("needs npm")
	}
	node, err1 := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err1 != nil || err2 != nil {
		t.Skip("node/npm not installed")
	}
	registerShow()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "modesl@1.2.1")
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install modesl: %v\n%s", err, out)
	}
	e := newEnv(t)
	host, port, _ := net.SplitHostPort(e.addr)
	script, _ := filepath.Abs("testdata/modesl_client.js")
	cmd := exec.CommandContext(ctx, node, script, host, port, "ClueCon")
	cmd.Env = append(cmd.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("modesl client: %v\n%s", err, out)
	}
	var res struct {
		API, Bgapi, JobCommand, Custom, Body, Error string
		RowCount                                    int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if res.Error != "" || res.API != "from modesl" || res.Bgapi != "bg job" || res.JobCommand != "esltest_echo" ||
		res.Custom != "hello world: 100%" || res.Body != "a body" || res.RowCount != 0 {
		t.Fatalf("modesl saw %+v", res)
	}
}

// registerShow provides a minimal `show channels as json` when core/api is not linked in.
func registerShow() {
	if _, ok := core.LookupAPI("show"); ok {
		return
	}
	core.RegisterAPI(core.APIInfo{Name: "show", Fn: func(_ context.Context, _ *core.Host, _ string, w io.Writer) error {
		_, err := io.WriteString(w, "{\n\t\"row_count\":\t0\n}")
		return err
	}})
}
