package loadconf

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/goswitch/goswitch/core/esl/wire"
)

// PBX is a goswitch started on a Write configuration.
type PBX struct {
	Cmd  *exec.Cmd
	Dir  string
	Conf Config
	done chan struct{}
}

// Ports picks free loopback ports for c: SIP (and SIP+20 for the external profile), the event
// socket and the loadgen's SIP address, from 10000-16000 (below the RTP ranges and the
// ephemeral ports). Another process may take one before goswitch binds it: a start failure says
// so, and the caller can pick again.
func (c *Config) Ports() error {
	sip, err := freePort(func(p int) bool { return free(p) && free(p+20) })
	if err != nil {
		return err
	}
	esl, err := freePort(func(p int) bool { return p != sip && p != sip+20 && free(p) })
	if err != nil {
		return err
	}
	uas, err := freePort(func(p int) bool { return p != sip && p != sip+20 && p != esl && free(p) })
	if err != nil {
		return err
	}
	c.SIPPort, c.ESLPort, c.UAS = sip, esl, "127.0.0.1:"+strconv.Itoa(uas)
	return nil
}

func freePort(ok func(int) bool) (int, error) {
	for range 500 {
		if p := 10000 + rand.IntN(6000); ok(p) {
			return p, nil
		}
	}
	return 0, errors.New("no free port")
}

func free(p int) bool {
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	defer u.Close()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Build builds cmd/goswitch from the module at root into dir.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "goswitch")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/goswitch")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Start writes c under dir and starts bin on it (args are extra goswitch flags, e.g.
// "-metrics", "off"), then waits up to within for its event socket to answer.
func Start(bin, dir string, c Config, within time.Duration, args ...string) (*PBX, error) {
	c.defaults()
	conf := filepath.Join(dir, "conf")
	if err := Write(conf, c); err != nil {
		return nil, err
	}
	for _, d := range []string{"log", "db", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	out, err := os.Create(filepath.Join(dir, "log", "stdout"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, append([]string{"-nc", "-nf", "-conf", conf, "-log", filepath.Join(dir, "log"),
		"-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run")}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &PBX{Cmd: cmd, Dir: dir, Conf: c, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	end := time.Now().Add(within)
	for {
		if cl, err := wire.Dial(p.ESL(), "", c.ESLPass, time.Second); err == nil {
			cl.Close()
			return p, nil
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "log", "stdout"))
			return nil, fmt.Errorf("goswitch exited at start: %s", tail(string(b), 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(end) {
			p.Stop()
			return nil, fmt.Errorf("goswitch's event socket did not answer within %v", within)
		}
	}
}

// ESL is the event socket's address.
func (p *PBX) ESL() string { return "127.0.0.1:" + strconv.Itoa(p.Conf.ESLPort) }

// SIP is the internal profile's address.
func (p *PBX) SIP() string { return "127.0.0.1:" + strconv.Itoa(p.Conf.SIPPort) }

// Stop sends SIGTERM, then SIGKILL after 5 s, and waits for the process.
func (p *PBX) Stop() {
	_ = p.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
