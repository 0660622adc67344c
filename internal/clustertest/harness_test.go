package clustertest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/goswitch/goswitch/internal/peer"
	"github.com/goswitch/goswitch/internal/pgtest"
	"github.com/zaf/g711"
)

const (
	proxyIP = "127.0.0.10"
	nodeA   = "127.0.0.11"
	nodeB   = "127.0.0.12"
	phoneIP = "127.0.0.20"
	probeS  = 1 // dispatcher OPTIONS interval, seconds
	domain  = "cluster.test"
)

// whoamiCode is what each node answers to INVITE whoami: the test learns from it which node
// Kamailio's Call-ID hash picks for a Call-ID.
var whoamiCode = map[string]int{"node-a": 480, "node-b": 486}

// cluster is one running PostgreSQL + Kamailio + two goswitch nodes in a private netns.
type cluster struct {
	t       *testing.T
	root    string
	dir     string // scratch; SIPp runs here (tone.raw)
	ns      string
	gscli   string
	db      *sql.DB
	nodes   map[string]*exec.Cmd
	ip      map[string]string
	voice   string // the voicemail storage both nodes share
	lastErr error
	cids    int    // Call-IDs tried so far by callIDFor: each call gets a fresh one
	bin     string // the goswitch binary
	dsn     string // the PostgreSQL both nodes share
}

func repoRoot(t *testing.T) string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Fatal("no repo root")
	return ""
}

// netns makes a private network namespace with loopback up, removed at cleanup.
func netns(t *testing.T) string {
	name := fmt.Sprintf("gscluster%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		peer.Missing(t, "cannot create a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	return name
}

// start runs a child in the namespace, killed (SIGKILL) at cleanup.
func start(t *testing.T, ns, logf string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	f, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		f.Close()
	})
	return cmd
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newCluster(t *testing.T) *cluster {
	if os.Geteuid() != 0 {
		peer.Missing(t, "network namespaces need root")
	}
	for _, p := range []string{"kamailio", "sipp"} {
		if _, err := exec.LookPath(p); err != nil {
			peer.Missing(t, "%s not installed", p)
		}
	}
	c := &cluster{t: t, root: repoRoot(t), dir: t.TempDir(), nodes: map[string]*exec.Cmd{},
		ip: map[string]string{"node-a": nodeA, "node-b": nodeB}}
	pg := pgtest.Start(t)
	c.ns = netns(t)
	bin := filepath.Join(c.dir, "goswitch")
	c.bin, c.dsn = bin, pg.DSN()
	c.gscli = filepath.Join(c.dir, "gs_cli")
	for out, pkg := range map[string]string{bin: "goswitch", c.gscli: "gs_cli"} {
		if b, err := exec.Command("go", "build", "-o", out, filepath.Join(c.root, "cmd", pkg)).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v %s", pkg, err, b)
		}
	}
	var err error
	c.db, err = sql.Open("pgx", strings.TrimPrefix(pg.DSN(), "pgsql://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })
	c.voice = filepath.Join(c.dir, "shared-voicemail")
	for name := range c.ip {
		c.startNode(name)
	}
	dslist := filepath.Join(c.dir, "dispatcher.list")
	os.WriteFile(dslist, []byte("1 sip:"+nodeA+":5060 0 0\n1 sip:"+nodeB+":5060 0 0\n"), 0o644)
	start(t, c.ns, filepath.Join(c.dir, "kamailio.log"), "kamailio", "-DD", "-E", "-f", filepath.Join(c.root, "conf", "cluster", "kamailio.cfg"),
		"-A", "LISTEN=udp:"+proxyIP+":5060", "-A", `DSLIST="`+dslist+`"`, "-A", fmt.Sprintf("DS_PING=%d", probeS),
		"-P", filepath.Join(c.dir, "kamailio.pid"))
	toneRaw(t, filepath.Join(c.dir, "tone.raw"))
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"kamailio.log", "node-a/stdout", "node-b/stdout", "node-a/log/goswitch.log", "node-b/log/goswitch.log"} {
				b, _ := os.ReadFile(filepath.Join(c.dir, f))
				if len(b) > 400000 {
					b = b[len(b)-400000:]
				}
				t.Logf("== %s\n%s", f, b)
			}
			t.Logf("last SIPp error: %v", c.lastErr)
		}
	})
	return c
}

// startNode starts (or, after a kill, restarts) node with its configuration and directories.
func (c *cluster) startNode(name string) {
	conf := c.nodeConf(name, c.ip[name], c.dsn)
	d := filepath.Join(c.dir, name)
	c.nodes[name] = start(c.t, c.ns, filepath.Join(d, "stdout"), c.bin, "-nc", "-nf", "-conf", conf, "-metrics", "off",
		"-log", filepath.Join(d, "log"), "-db", filepath.Join(d, "db"), "-run", filepath.Join(d, "run"),
		"-storage", filepath.Join(d, "storage"))
}

// toneRaw writes one second of a 440 Hz tone in raw PCMU for SIPp's rtp_stream.
func toneRaw(t *testing.T, path string) {
	b := make([]byte, 8000)
	for i := range b {
		b[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sipp runs one SIPp scenario (XML text) in the namespace towards Kamailio, from phoneIP:port
// (0: any), and returns its error with its output.
func (c *cluster) sipp(timeout time.Duration, scen string, port int, args ...string) error {
	f, err := os.CreateTemp(c.dir, "scen*.xml")
	if err != nil {
		return err
	}
	f.WriteString(scen)
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	all := append([]string{"netns", "exec", c.ns, "sipp", proxyIP + ":5060", "-sf", f.Name(), "-i", phoneIP,
		"-p", strconv.Itoa(port), "-mi", phoneIP, "-m", "1", "-timeout", timeout.String(), "-timeout_error", "-nostdin",
		"-key", "domain", domain}, args...)
	cmd := exec.CommandContext(ctx, "ip", all...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.lastErr = fmt.Errorf("%v: %s", err, out)
		return c.lastErr
	}
	return nil
}

// sippAsync runs sipp in the background; the channel gets its result.
func (c *cluster) sippAsync(timeout time.Duration, scen string, port int, args ...string) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.sipp(timeout, scen, port, args...) }()
	return ch
}

// phonePort is where user's SIPp phone listens (its registered contact).
func phonePort(user string) int {
	n, _ := strconv.Atoi(user)
	return 20000 + n
}

func (c *cluster) register(user string) error {
	return c.sipp(10*time.Second, registerBlind, phonePort(user), "-s", user)
}

// row is user's shared registration: the node that holds it and its Path.
func (c *cluster) row(user string) (node, path string) {
	c.db.QueryRow(`SELECT coalesce(hostname,''), coalesce(path,'') FROM sip_registrations WHERE sip_user = $1`, user).Scan(&node, &path)
	return
}

// registered registers user through Kamailio and waits for its shared row; it returns the node.
func (c *cluster) registered(user string) string {
	c.t.Helper()
	if err := c.register(user); err != nil {
		c.t.Fatalf("register %s: %v", user, err)
	}
	var n string
	waitFor(c.t, 5*time.Second, user+"'s registration row", func() bool { n, _ = c.row(user); return n != "" })
	return n
}

// callIDFor returns a Call-ID that Kamailio's dispatcher (Call-ID hash) sends to node.
func (c *cluster) callIDFor(node string) string {
	c.t.Helper()
	scen := fmt.Sprintf(whoamiScenario, whoamiCode[node])
	for range 40 {
		c.cids++
		cid := fmt.Sprintf("cid-%d-%d@%s", c.cids, os.Getpid(), phoneIP)
		// Its own port: retransmitted answers must not reach the call that reuses the Call-ID.
		if c.sipp(5*time.Second, scen, 5999, "-key", "dest", "whoami", "-cid_str", cid) == nil {
			return cid
		}
	}
	c.t.Fatalf("no Call-ID found that reaches %s", node)
	return ""
}

// gsapi runs an API command on node through its event socket (gs_cli, in the namespace).
func (c *cluster) gsapi(node, cmd string) string {
	c.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", c.ns, c.gscli, "-H", c.ip[node], "-P", "8021", "-p", "ClueCon", "-x", cmd).CombinedOutput()
	if err != nil {
		c.t.Fatalf("gs_cli %s on %s: %v %s", cmd, node, err, out)
	}
	return string(out)
}

// cdrLines is node's Master.csv (template "cluster": sip_call_id, uuid, in, out packets).
func (c *cluster) cdrLines(node string) []string {
	b, _ := os.ReadFile(filepath.Join(c.dir, node, "log", "cdr-csv", "Master.csv"))
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
