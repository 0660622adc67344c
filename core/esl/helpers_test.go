package esl_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/xmlconf"
)

const confXML = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="Various Configuration">
    <configuration name="event_socket.conf" description="Socket Client">
      <settings>
        <param name="listen-ip" value="127.0.0.1"/>
        <param name="listen-port" value="0"/>
        <param name="password" value="ClueCon"/>
      </settings>
    </configuration>
  </section>
  <section name="directory" description="User Directory">
    <domain name="example.com">
      <user id="ops">
        <params>
          <param name="esl-password" value="s3cret"/>
          <param name="esl-allowed-api" value="esltest_echo,status"/>
          <param name="esl-allowed-events" value="all"/>
        </params>
      </user>
    </domain>
  </section>
</document>
`

var registerOnce sync.Once

func registerTestApps() {
	registerOnce.Do(func() {
		core.RegisterAPI(core.APIInfo{Name: "esltest_echo", Syntax: "<text>", Short: "echo for tests",
			Fn: func(_ context.Context, _ *core.Host, args string, w io.Writer) error {
				_, err := io.WriteString(w, args)
				return err
			}})
		core.RegisterAPI(core.APIInfo{Name: "esltest_log", Syntax: "<text>", Short: "log for tests",
			Fn: func(_ context.Context, h *core.Host, args string, w io.Writer) error {
				h.Log.Warn(args, "uuid", "0b3e6a30-0000-4000-8000-000000000001")
				_, err := io.WriteString(w, "+OK\n")
				return err
			}})
		core.RegisterApp(core.AppInfo{Name: "esltest_set", Flags: core.AppNoMedia,
			App: core.AppFunc(func(_ context.Context, s *core.Session, args string) error {
				k, v, _ := strings.Cut(args, "=")
				s.SetVar(k, v)
				return nil
			})})
	})
}

type env struct {
	h    *core.Host
	srv  *esl.Server
	addr string
	log  *logging.Handler
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env { return newEnvConf(t, confXML) }

func newEnvConf(t testing.TB, conf string) *env {
	t.Helper()
	registerTestApps()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	lh, err := logging.New(logging.Options{Writer: io.Discard, Color: "off"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{
		Log: slog.New(lh), LogLevel: lh.Level(), Hostname: "testhost", Switchname: "testswitch",
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, ok := esl.FromHost(h)
	if !ok {
		t.Fatal("mod_event_socket not instantiated")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln)
	e := &env{h: h, srv: srv, addr: ln.Addr().String(), log: lh}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx, core.CauseSystemShutdown)
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		_ = lh.Close()
	})
	return e
}

// raw is a byte-level client for transcript tests.
type raw struct {
	t      *testing.T
	nc     net.Conn
	r      *bufio.Reader
	events []string // event frames read while waiting for a reply
}

// expectReply reads frames until a command/reply or api/response, keeping events for nextEvent.
func (r *raw) expectReply(want string) {
	r.t.Helper()
	for {
		f := r.frame()
		if strings.HasPrefix(f, "Content-Length: ") && strings.Contains(f, "\nContent-Type: text/event-") {
			r.events = append(r.events, f)
			continue
		}
		if f != want {
			r.t.Fatalf("frame:\n%q\nwant\n%q", f, want)
		}
		return
	}
}

// nextEvent returns a kept event frame or reads the next frame.
func (r *raw) nextEvent() string {
	if len(r.events) > 0 {
		f := r.events[0]
		r.events = r.events[1:]
		return f
	}
	return r.frame()
}

func (e *env) dialRaw(t *testing.T) *raw {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (r *raw) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.nc, s); err != nil {
		r.t.Fatal(err)
	}
}

// frame reads one frame and returns it exactly as written on the wire.
func (r *raw) frame() string {
	r.t.Helper()
	var b strings.Builder
	cl := -1
	for {
		line, err := r.r.ReadString('\n')
		if err != nil {
			r.t.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if line == "\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n := 0
			for _, c := range strings.TrimSpace(v) {
				n = n*10 + int(c-'0')
			}
			cl = n
		}
	}
	if cl > 0 {
		buf := make([]byte, cl)
		if _, err := io.ReadFull(r.r, buf); err != nil {
			r.t.Fatal(err)
		}
		b.Write(buf)
	}
	return b.String()
}

func (r *raw) expect(want string) {
	r.t.Helper()
	if got := r.frame(); got != want {
		r.t.Fatalf("frame:\n%q\nwant\n%q", got, want)
	}
}

func (r *raw) auth() {
	r.t.Helper()
	r.expect("Content-Type: auth/request\n\n")
	r.send("auth ClueCon\n\n")
	r.expect("Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
}

// nullLeg is a core.Leg without media or signalling.
type nullLeg struct{}

func (nullLeg) Progress(context.Context, bool) error            { return nil }
func (nullLeg) Answer(context.Context) error                    { return nil }
func (nullLeg) Hangup(context.Context, core.Cause) error        { return nil }
func (nullLeg) Port() media.Port                                { return nil }
func (nullLeg) SendDTMF(media.DTMF) error                       { return nil }
func (nullLeg) Indicate(context.Context, core.Indication) error { return nil }

// waitingSession starts an outbound channel that waits in CS_CONSUME_MEDIA for commands.
func (e *env) waitingSession(t *testing.T) *core.Session {
	t.Helper()
	s := core.NewSession(e.h, core.SessionOptions{
		Name: "test/1000", Direction: core.Outbound, Leg: nullLeg{},
		Profile: &core.CallerProfile{CallerIDName: "Alice", CallerIDNumber: "1000", DestNumber: "2000"},
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.State() != core.StateConsumeMedia {
		if time.Now().After(deadline) {
			t.Fatalf("session state %v", s.State())
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		s.Hangup(core.CauseNormalClearing)
		<-s.Done()
	})
	return s
}

func newReader(nc net.Conn) *bufio.Reader {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return bufio.NewReader(nc)
}
