// Package playtest drives media applications in tests: a Host loaded from inline XML, calls whose
// leg is one end of a media pipe, and a Phone on the other end that sends DTMF and audio and
// records what it hears.
package playtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Conf wraps sections into a freeswitch.xml document.
func Conf(sections string) string {
	return `<?xml version="1.0"?>
<document type="freeswitch/xml">
` + sections + `
</document>
`
}

// NewHost loads conf (a whole freeswitch.xml) from a temp dir. Storage and recordings go to temp
// dirs too. The host is stopped when the test ends.
func NewHost(t testing.TB, conf string) *core.Host {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return newHost(t, xmlconf.Options{Dir: dir, Globals: map[string]string{"sound_prefix": filepath.Join(dir, "nosounds")}}, dir)
}

// NewHostDir loads a conf tree from disk (e.g. the vanilla tree); the test is skipped when it is
// absent.
func NewHostDir(t testing.TB, confDir string) *core.Host {
	t.Helper()
	if _, err := os.Stat(filepath.Join(confDir, "freeswitch.xml")); err != nil {
		t.Skipf("%s not present", confDir)
	}
	g := xmlconf.BuiltinGlobals(confDir)
	g["local_ip_v4"] = "192.0.2.10"
	tmp := t.TempDir()
	g["sounds_dir"] = filepath.Join(tmp, "nosounds")
	return newHost(t, xmlconf.Options{Dir: confDir, Globals: g}, tmp)
}

func newHost(t testing.TB, opts xmlconf.Options, tmp string) *core.Host {
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(opts) },
		Dirs: core.Dirs{
			Storage:    filepath.Join(tmp, "storage"),
			Recordings: filepath.Join(tmp, "recordings"),
			DB:         filepath.Join(tmp, "db"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.SetSPS(100000)
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx, core.CauseSystemShutdown)
	})
	return h
}

// leg is a core.Leg over a pipe end.
type leg struct{ port *media.PipePort }

func (l *leg) Progress(context.Context, bool) error            { return nil }
func (l *leg) Answer(context.Context) error                    { return nil }
func (l *leg) Hangup(context.Context, core.Cause) error        { return nil }
func (l *leg) Port() media.Port                                { return l.port }
func (l *leg) SendDTMF(d media.DTMF) error                     { return l.port.SendDTMF(d) }
func (l *leg) Indicate(context.Context, core.Indication) error { return nil }

// Phone is the far end of a call.
type Phone struct {
	t    testing.TB
	Port *media.PipePort
	rate int

	mu    sync.Mutex
	heard []int16
	send  media.Source
	digs  []rune

	cancel context.CancelFunc
	done   chan struct{}
}

// NewCall creates an unstarted inbound session named name with the given variables, whose media
// is a pipe to the returned Phone. Run applications with Run, or start it yourself.
func NewCall(t testing.TB, h *core.Host, name string, vars ...[2]string) (*core.Session, *Phone) {
	t.Helper()
	return NewCallRate(t, h, name, 8000, vars...)
}

// NewCallRate is NewCall with media at rate (16000 for a wideband phone).
func NewCallRate(t testing.TB, h *core.Host, name string, rate int, vars ...[2]string) (*core.Session, *Phone) {
	t.Helper()
	a, b := media.NewPipe(media.PipeConfig{Rate: rate, Clock: h.Clock, Name: name})
	s := core.NewSession(h, core.SessionOptions{
		Name: "loopback/" + name, Direction: core.Inbound, Leg: &leg{a}, Vars: vars,
		Profile: &core.CallerProfile{CallerIDName: name, CallerIDNumber: name, DestNumber: name},
	})
	a.OnDTMF(s.QueueDTMF)
	ph := &Phone{t: t, Port: b, rate: rate, done: make(chan struct{})}
	b.OnDTMF(func(d media.DTMF) {
		ph.mu.Lock()
		ph.digs = append(ph.digs, d.Digit)
		ph.mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	ph.cancel = cancel
	go ph.loop(ctx)
	t.Cleanup(func() {
		s.Hangup(core.CauseNormalClearing)
		ph.Close()
	})
	return s, ph
}

// Run makes s execute actions ("app", "data" pairs) as its route and starts it.
func Run(t testing.TB, s *core.Session, appData ...string) {
	t.Helper()
	var acts []core.Action
	for i := 0; i+1 < len(appData); i += 2 {
		acts = append(acts, core.Action{App: appData[i], Data: appData[i+1]})
	}
	s.ExecuteActions(acts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
}

// Wait waits for the session to end.
func Wait(t testing.TB, s *core.Session, d time.Duration) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(d):
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Fatalf("session %s still running after %s; goroutines:\n%s", s.Name(), d, b.String())
	}
}

// loop reads what the phone hears and sends what it was told to say, one frame per tick.
func (p *Phone) loop(ctx context.Context) {
	defer close(p.done)
	st := p.Port.Stream()
	var f media.Frame
	out := make([]int16, p.rate/50)
	for {
		if err := st.ReadFrame(ctx, &f); err != nil {
			return
		}
		p.mu.Lock()
		p.heard = append(p.heard, f.PCM...)
		src := p.send
		p.mu.Unlock()
		if src != nil {
			n, err := media.ReadFull(src, out)
			clear(out[n:])
			if err != nil || n < len(out) {
				p.mu.Lock()
				if p.send == src {
					p.send = nil
				}
				p.mu.Unlock()
			}
			if n > 0 {
				if st.WriteFrame(ctx, &media.Frame{PCM: out, Rate: p.rate}) != nil {
					return
				}
			}
		}
	}
}

// Close stops the phone.
func (p *Phone) Close() {
	p.cancel()
	<-p.done
	p.Port.Close()
}

// Say makes the phone send src (replacing what it was sending); nil stops.
func (p *Phone) Say(src media.Source) {
	p.mu.Lock()
	p.send = src
	p.mu.Unlock()
}

// Tone makes the phone send a continuous sine at freq and amplitude amp for d.
func (p *Phone) Tone(freq float64, amp int16, d time.Duration) {
	p.Say(&sine{freq: freq, amp: float64(amp), rate: p.rate, left: int(d.Seconds() * float64(p.rate))})
}

// DTMF sends digits, each as a separate RFC 2833-like event.
func (p *Phone) DTMF(digits string) {
	for _, d := range digits {
		if err := p.Port.SendDTMF(media.DTMF{Digit: d, Duration: 100 * time.Millisecond}); err != nil {
			p.t.Errorf("send dtmf: %v", err)
		}
	}
}

// Digits returns the DTMF digits the phone received.
func (p *Phone) Digits() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.digs)
}

// Rate returns the phone's sample rate.
func (p *Phone) Rate() int { return p.rate }

// Heard returns everything heard so far.
func (p *Phone) Heard() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard...)
}

// Mark returns the current length of what was heard, for HeardSince.
func (p *Phone) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.heard)
}

// HeardSince returns what was heard after mark.
func (p *Phone) HeardSince(mark int) []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard[mark:]...)
}

// WaitHeard waits until cond holds for what the phone heard after mark and returns the mark at
// that moment. It fails the test after d, naming what: the condition a test sequences on.
func (p *Phone) WaitHeard(mark int, d time.Duration, what string, cond func(pcm []int16) bool) int {
	p.t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		pcm := append([]int16(nil), p.heard[min(mark, len(p.heard)):]...)
		end := len(p.heard)
		p.mu.Unlock()
		if cond(pcm) {
			return end
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not heard within %v", what, d)
		}
		<-tick.C
	}
}

// WaitTone waits until the phone has heard freq after mark for 100 ms (consecutive 50 ms windows
// whose power is mostly at freq, so any 50 ms Goertzel grid over the result holds one whole
// window of it) and returns the mark at that moment. A test presses its next key once the prompt
// it answers is playing instead of after a guessed delay.
func (p *Phone) WaitTone(mark int, freq float64, d time.Duration) int {
	p.t.Helper()
	w := p.rate / 20
	return p.WaitHeard(mark, d, fmt.Sprintf("%v Hz", freq), func(pcm []int16) bool {
		run := 0
		for i := 0; i+w <= len(pcm); i += w / 2 {
			if Goertzel(pcm[i:i+w], freq, p.rate) <= 0.5 {
				run = 0
				continue
			}
			if run++; run >= 3 { // three half-step windows span 2w
				return true
			}
		}
		return false
	})
}

// WaitVoiced waits until the phone has heard at least v of sound above thresh (see Voiced) after
// mark.
func (p *Phone) WaitVoiced(mark int, thresh float64, v, d time.Duration) int {
	p.t.Helper()
	return p.WaitHeard(mark, d, fmt.Sprintf("%v of sound", v), func(pcm []int16) bool {
		return Voiced(pcm, p.rate, thresh) >= v
	})
}

// Reset forgets what was heard.
func (p *Phone) Reset() {
	p.mu.Lock()
	p.heard = p.heard[:0]
	p.mu.Unlock()
}

type sine struct {
	freq, amp float64
	rate, n   int
	left      int
}

func (s *sine) Rate() int { return s.rate }
func (s *sine) Read(pcm []int16) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := min(len(pcm), s.left)
	for i := range n {
		pcm[i] = int16(s.amp * math.Sin(2*math.Pi*s.freq*float64(s.n)/float64(s.rate)))
		s.n++
	}
	s.left -= n
	return n, nil
}

// Goertzel returns the share (0..1) of pcm's power at freq, measured over 50 ms windows so
// that phase jumps between tone segments don't cancel out.
func Goertzel(pcm []int16, freq float64, rate int) float64 {
	w := rate / 20
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var tone, total float64
	for i := 0; i+w <= len(pcm); i += w {
		var s1, s2 float64
		for _, v := range pcm[i : i+w] {
			x := float64(v)
			s0 := x + k*s1 - s2
			s2, s1 = s1, s0
			total += x * x
		}
		tone += 2 * (s1*s1 + s2*s2 - k*s1*s2) / float64(w)
	}
	if total == 0 {
		return 0
	}
	return tone / total
}

// RMS returns the root mean square of pcm.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// Voiced returns the total duration of 20 ms windows whose RMS exceeds thresh.
func Voiced(pcm []int16, rate int, thresh float64) time.Duration {
	w := rate / 50
	n := 0
	for i := 0; i+w <= len(pcm); i += w {
		if RMS(pcm[i:i+w]) > thresh {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond
}

// ReadWav reads a whole WAV file the apps wrote (record, record_session, voicemail, conference
// recordings) and returns its samples and rate.
func ReadWav(t testing.TB, path string) ([]int16, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := audio.NewWavReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	buf := make([]int16, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil || n == 0 {
			return out, r.Rate()
		}
	}
}
