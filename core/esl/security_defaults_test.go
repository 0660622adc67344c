package esl_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// TestDefaultPasswordOffLoopbackRefused: with password ClueCon, an event socket configured on
// a non-loopback address does not listen (ERROR logged; stop-on-bind-error makes start fail);
// -insecure opens it with a warning; loopback, or another password, listens as before.
func TestDefaultPasswordOffLoopbackRefused(t *testing.T) {
	tests := []struct {
		name, ip, pass string
		insecure, stop bool
		listen         bool
		startErr       bool
		log            string
	}{
		{"ClueCon on 0.0.0.0", "0.0.0.0", "ClueCon", false, false, false, false, "refusing to listen on 0.0.0.0:0 with the default password ClueCon"},
		{"ClueCon on ::", "::", "ClueCon", false, false, false, false, "refusing to listen"},
		{"ClueCon on 0.0.0.0, stop-on-bind-error", "0.0.0.0", "ClueCon", false, true, false, true, "refusing to listen"},
		{"ClueCon on 0.0.0.0, -insecure", "0.0.0.0", "ClueCon", true, false, true, false, "INSECURE: event socket listens beyond loopback"},
		{"ClueCon on loopback", "127.0.0.1", "ClueCon", false, false, true, false, "event socket listening"},
		{"own password on 0.0.0.0", "0.0.0.0", "n0t-the-default", false, false, true, false, "event socket listening"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := strings.NewReplacer(`value="127.0.0.1"`, `value="`+tt.ip+`"`, `value="ClueCon"`, `value="`+tt.pass+`"`).Replace(confXML)
			if tt.stop {
				conf = strings.Replace(conf, `<param name="listen-port" value="0"/>`, `<param name="listen-port" value="0"/><param name="stop-on-bind-error" value="true"/>`, 1)
			}
			if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			logs := &lockedBuf{}
			h, err := core.NewHost(core.HostOptions{
				Log: slog.New(slog.NewTextHandler(logs, nil)), Insecure: tt.insecure,
				Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
			})
			if err != nil {
				t.Fatal(err)
			}
			err = h.Start(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			defer h.Stop(ctx, core.CauseSystemShutdown)
			if (err != nil) != tt.startErr {
				t.Errorf("Start: %v, want error %v", err, tt.startErr)
			}
			srv, _ := esl.FromHost(h)
			if got := srv.Addr() != nil; got != tt.listen {
				t.Errorf("listening %v, want %v (addr %v)", got, tt.listen, srv.Addr())
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, logs.String())
			}
			_ = srv.Stop(ctx)
		})
	}
}
