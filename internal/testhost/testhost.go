// Package testhost builds a running core.Host for tests from a small XML configuration, so tests of
// apps and endpoints can place real calls through the loopback endpoint.
package testhost

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Document wraps sections into a freeswitch.xml document.
func Document(sections ...string) string {
	out := `<?xml version="1.0"?>` + "\n" + `<document type="freeswitch/xml">` + "\n"
	for _, s := range sections {
		out += s + "\n"
	}
	return out + "</document>\n"
}

// Dialplan returns a dialplan section holding the given contexts' XML.
func Dialplan(contexts string) string {
	return `<section name="dialplan" description="Regex/XML Dialplan">` + "\n" + contexts + "\n</section>"
}

// Logger discards logs unless the test runs with -v.
func Logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// New writes doc as freeswitch.xml (plus extra files, path → content) into a temp dir, starts a
// Host on it and stops it when the test ends, failing the test if channels are left over.
func New(t testing.TB, doc string, extra map[string]string) *core.Host {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"freeswitch.xml": doc}
	for k, v := range extra {
		files[k] = v
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	globals := xmlconf.BuiltinGlobals(dir)
	globals["domain"] = "test.local"
	globals["domain_name"] = "test.local"
	for _, d := range []string{"log_dir", "db_dir", "run_dir", "storage_dir", "recordings_dir", "temp_dir"} {
		globals[d] = filepath.Join(dir, d)
		_ = os.MkdirAll(globals[d], 0o755)
	}
	h, err := core.NewHost(core.HostOptions{
		Log: Logger(),
		Dirs: core.Dirs{Base: dir, Conf: dir, Log: globals["log_dir"], DB: globals["db_dir"],
			Run: globals["run_dir"], Storage: globals["storage_dir"], Recordings: globals["recordings_dir"],
			Temp: globals["temp_dir"], Sounds: globals["sounds_dir"]},
		Load: func() (*xmlconf.Snapshot, error) {
			return xmlconf.Load(xmlconf.Options{Dir: dir, Globals: globals})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Stop(ctx, core.CauseSystemShutdown); err != nil {
			t.Error(err)
		}
		if n := h.SessionCount(); n != 0 {
			t.Errorf("%d channels left after stop", n)
		}
	})
	return h
}

// WaitGone waits until the host has no channels.
func WaitGone(t testing.TB, h *core.Host, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for h.SessionCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d channels still up", h.SessionCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Energy returns the RMS level of pcm.
func Energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// Goertzel returns the power of freq in pcm sampled at rate, normalised by length.
func Goertzel(pcm []int16, rate int, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / float64(len(pcm)*len(pcm))
}

// SendTone writes a sine of freq into st until ctx ends.
func SendTone(ctx context.Context, st media.Stream, freq float64) {
	rate := st.Rate()
	n := rate * int(st.Ptime()/time.Millisecond) / 1000
	f := media.Frame{PCM: make([]int16, n), Rate: rate}
	for i := 0; ctx.Err() == nil; i++ {
		for j := range f.PCM {
			f.PCM[j] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i*n+j)/float64(rate)))
		}
		if st.WriteFrame(ctx, &f) != nil {
			return
		}
	}
}

// Hears reads up to frames frames from st and reports whether one carries freq clearly.
func Hears(ctx context.Context, st media.Stream, freq float64, frames int) bool {
	var f media.Frame
	for i := 0; i < frames; i++ {
		if st.ReadFrame(ctx, &f) != nil {
			return false
		}
		if Energy(f.PCM) > 1000 && Goertzel(f.PCM, f.Rate, freq) > 1e5 {
			return true
		}
	}
	return false
}
