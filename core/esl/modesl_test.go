package esl_test

import (
	"context"
	"encoding/json"
	"github.com/goswitch/goswitch/internal/peer"
	"io"
	"net"
	"os"
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
		peer.Missing(t, "node/npm not installed")
	}
	registerShow()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := modeslDir(ctx, t, npm)
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

// modeslDir installs modesl once into the user cache (reused by later runs) and returns the
// prefix holding node_modules.
func modeslDir(ctx context.Context, t *testing.T, npm string) string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "goswitch-test", "modesl-1.2.1")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "modesl", "package.json")); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Skip(err)
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), "install-"); err != nil {
			t.Skip(err)
		}
	}
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--prefer-offline", "--prefix", tmp, "modesl@1.2.1")
	if out, err := install.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		peer.Missing(t, "npm install modesl: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another run installed it first
	}
	return dir
}
