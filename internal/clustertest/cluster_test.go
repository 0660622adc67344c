// Package clustertest runs a goswitch cluster end to end: a throw-away PostgreSQL, Kamailio with
// the shipped conf/cluster/kamailio.cfg, and two goswitch nodes, in a network namespace the test
// makes (loopback only), with SIPp phones registering through Kamailio.
package clustertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/goswitch/goswitch/internal/peer"
	"github.com/goswitch/goswitch/internal/pgtest"
)

const (
	proxyIP = "127.0.0.10"
	nodeA   = "127.0.0.11"
	nodeB   = "127.0.0.12"
	phoneIP = "127.0.0.20"
	probeS  = 1 // dispatcher OPTIONS interval, seconds
)

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

func nodeConf(t *testing.T, dir, name, ip, dsn string) string {
	conf := filepath.Join(dir, name, "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	xml := `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="switchname" value="` + name + `"/>
    <param name="core-db-dsn" value="` + dsn + `"/>
    <param name="max-db-handles" value="4"/>
  </settings></configuration>
  <configuration name="modules.conf"><modules><load module="mod_sofia"/></modules></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="` + ip + `"/><param name="rtp-ip" value="` + ip + `"/>
      <param name="sip-port" value="5060"/><param name="context" value="default"/>
      <param name="auth-calls" value="false"/><param name="accept-blind-reg" value="true"/>
      <param name="odbc-dsn" value="` + dsn + `"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="dialplan"><context name="default"/></section>
</document>`
	if err := os.WriteFile(filepath.Join(conf, "freeswitch.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
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

func TestClusterFailover(t *testing.T) {
	if os.Geteuid() != 0 {
		peer.Missing(t, "network namespaces need root")
	}
	for _, p := range []string{"kamailio", "sipp"} {
		if _, err := exec.LookPath(p); err != nil {
			peer.Missing(t, "%s not installed", p)
		}
	}
	root := repoRoot(t)
	pg := pgtest.Start(t)
	ns := netns(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "goswitch")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "goswitch")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	db, err := sql.Open("pgx", strings.TrimPrefix(pg.DSN(), "pgsql://"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	nodes := map[string]*exec.Cmd{}
	for name, ip := range map[string]string{"node-a": nodeA, "node-b": nodeB} {
		conf := nodeConf(t, dir, name, ip, pg.DSN())
		d := filepath.Join(dir, name)
		nodes[name] = start(t, ns, filepath.Join(d, "stdout"), bin, "-nc", "-nf", "-conf", conf,
			"-log", filepath.Join(d, "log"), "-db", filepath.Join(d, "db"), "-run", filepath.Join(d, "run"))
	}
	dslist := filepath.Join(dir, "dispatcher.list")
	os.WriteFile(dslist, []byte("1 sip:"+nodeA+":5060 0 0\n1 sip:"+nodeB+":5060 0 0\n"), 0o644)
	start(t, ns, filepath.Join(dir, "kamailio.log"), "kamailio", "-DD", "-E", "-f", filepath.Join(root, "conf", "cluster", "kamailio.cfg"),
		"-A", "LISTEN=udp:"+proxyIP+":5060", "-A", `DSLIST="`+dslist+`"`, "-A", fmt.Sprintf("DS_PING=%d", probeS),
		"-P", filepath.Join(dir, "kamailio.pid"))

	scen := filepath.Join(dir, "register_blind.xml")
	os.WriteFile(scen, []byte(registerBlind), 0o644)
	// register runs one SIPp REGISTER for user through Kamailio and reports success.
	register := func(user string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "sipp", proxyIP+":5060",
			"-sf", scen, "-s", user, "-i", phoneIP, "-p", "0", "-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	row := func(user string) (node, path string) {
		db.QueryRow(`SELECT coalesce(hostname,''), coalesce(path,'') FROM sip_registrations WHERE sip_user = $1`, user).Scan(&node, &path)
		return
	}
	// Both nodes up and probed: a REGISTER lands on one of them and in the shared table.
	var lastErr error
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"kamailio.log", "node-a/stdout", "node-b/stdout"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("== %s\n%s", f, b)
			}
			t.Logf("last register error: %v", lastErr)
		}
	})
	waitFor(t, 30*time.Second, "first registration through Kamailio", func() bool { lastErr = register("1000"); return lastErr == nil })
	waitFor(t, 5*time.Second, "registration row", func() bool { n, _ := row("1000"); return n != "" })
	n1, path := row("1000")
	if !strings.Contains(path, proxyIP) || !strings.Contains(path, "received=") {
		t.Fatalf("Path %q does not route back through Kamailio", path)
	}
	t.Logf("1000 registered on %s with Path %s", n1, path)

	// kill -9 the node that took it; REGISTERs (AoR-hashed to it) move to the survivor within
	// the probe interval plus one retry, and 1000's registration stays in PostgreSQL.
	victim := nodes[n1]
	syscall.Kill(victim.Process.Pid, syscall.SIGKILL)
	killed := time.Now()
	var err2 error
	waitFor(t, time.Duration(probeS)*time.Second+15*time.Second, "registration after failover", func() bool {
		err2 = register("1000")
		return err2 == nil
	})
	took := time.Since(killed)
	var n2 string
	waitFor(t, 5*time.Second, "1000's row rewritten by the survivor", func() bool { n2, _ = row("1000"); return n2 != n1 && n2 != "" })
	for _, u := range []string{"1001", "1002"} {
		if err := register(u); err != nil {
			t.Fatalf("register %s after failover: %v", u, err)
		}
	}
	t.Logf("failover: %s killed, re-registration accepted by %s after %v", n1, n2, took.Round(time.Millisecond))
}

// registerBlind: one REGISTER (the nodes run accept-blind-reg) answered 200.
const registerBlind = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="blind register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@cluster.test>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@cluster.test>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 300
      User-Agent: SIPp
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`
