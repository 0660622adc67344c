package playback_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/testconf"
	"github.com/goswitch/goswitch/sounds"
)

// promptRef is a sound file name relative to ${sound_prefix}: <dir>/<name>.wav.
var promptRef = regexp.MustCompile(`(?:^|[\s,:'"!=])([a-z]+/[A-Za-z0-9_-]+\.wav)`)

// vanillaPrompts lists the English prompts FreeSWITCH's vanilla tree refers to: the en language's
// phrase macros, the dialplan, the IVR menus and conference's sounds.
func vanillaPrompts(t *testing.T, snap *xmlconf.Snapshot) []string {
	t.Helper()
	var roots []*etree.Element
	if langs := snap.Section("languages"); langs != nil {
		for _, l := range langs.FindElements(".//language") {
			if l.SelectAttrValue("name", "") == "en" {
				roots = append(roots, l)
			}
		}
	}
	roots = append(roots, snap.Section("dialplan"), snap.Configuration("ivr.conf"), snap.Configuration("conference.conf"))
	set := map[string]bool{}
	for _, r := range roots {
		if r == nil {
			t.Fatal("vanilla tree lacks a section this test reads")
		}
		for _, e := range append([]*etree.Element{r}, r.FindElements(".//*")...) {
			for _, a := range e.Attr {
				for _, m := range promptRef.FindAllStringSubmatch(a.Value, -1) {
					set[m[1]] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func loadVanillaSnap(t *testing.T, sounds string) *xmlconf.Snapshot {
	t.Helper()
	dir := testconf.Vanilla(t)
	g := xmlconf.BuiltinGlobals(dir)
	g["local_ip_v4"] = "192.0.2.10"
	g["sounds_dir"] = sounds
	snap, err := xmlconf.Load(xmlconf.Options{Dir: dir, Globals: g})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestVanillaPromptsShipped: every English prompt the vanilla tree plays exists in the embedded
// set, at the channel rates phones use (8 kHz files, resampled by the player for wideband).
func TestVanillaPromptsShipped(t *testing.T) {
	snap := loadVanillaSnap(t, filepath.Join(t.TempDir(), "nosounds"))
	prompts := vanillaPrompts(t, snap)
	if len(prompts) < 150 {
		t.Fatalf("found only %d prompt references in the vanilla tree: %v", len(prompts), prompts)
	}
	prefix := filepath.Join(t.TempDir(), "en", "us", "callie") // nothing on disk: embedded set only
	var missing []string
	for _, name := range prompts {
		for _, rate := range []int{8000, 16000, 48000} {
			src, closeFn, err := playback.OpenSound(name, prefix, rate)
			if err != nil {
				missing = append(missing, name)
				break
			}
			var buf [160]int16
			if n, _ := src.Read(buf[:]); n == 0 {
				t.Errorf("%s at %d Hz: empty", name, rate)
			}
			closeFn()
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d vanilla prompts missing from the embedded set: %s", len(missing), len(prompts), strings.Join(missing, " "))
	}
	t.Logf("%d vanilla prompts, all shipped", len(prompts))
}

// TestSoundPackDropsIn: a FreeSWITCH sound pack (<dir>/<rate>/<name>.wav under sound_prefix)
// takes precedence over the embedded set, at the channel's rate.
func TestSoundPackDropsIn(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "en", "us", "callie")
	for _, rate := range []int{8000, 16000} {
		dst := filepath.Join(prefix, "misc", strconv.Itoa(rate), "call_secured.wav")
		writePackTone(t, dst, rate)
	}
	for _, rate := range []int{8000, 16000} {
		p, ok := playback.ResolvePath("misc/call_secured.wav", prefix, rate)
		if !ok || p != filepath.Join(prefix, "misc", strconv.Itoa(rate), "call_secured.wav") {
			t.Fatalf("rate %d: resolved %s %v", rate, p, ok)
		}
		src, closeFn, err := playback.OpenSound("misc/call_secured", prefix, rate)
		if err != nil {
			t.Fatal(err)
		}
		if src.Rate() != rate {
			t.Errorf("rate %d: pack file not used (source at %d Hz)", rate, src.Rate())
		}
		closeFn()
	}
}

func writePackTone(t *testing.T, path string, rate int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := audio.NewToneGenerator("%(200,0,440)", rate)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, rate/5)
	media.ReadFull(g, pcm)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audio.NewWavWriter(f, rate, audio.WavPCM)
	if err == nil {
		err = w.Write(pcm)
	}
	if err == nil {
		err = w.Close()
	}
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
}

// sinkStream records what a player writes until it has want samples.
type sinkStream struct {
	rate   int
	want   int
	mu     sync.Mutex
	pcm    []int16
	cancel context.CancelFunc
}

func (s *sinkStream) ReadFrame(ctx context.Context, _ *media.Frame) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *sinkStream) WriteFrame(_ context.Context, f *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pcm = append(s.pcm, f.PCM...)
	if len(s.pcm) >= s.want {
		s.cancel()
	}
	return nil
}

func (s *sinkStream) Rate() int                        { return s.rate }
func (s *sinkStream) Ptime() time.Duration             { return 20 * time.Millisecond }
func (s *sinkStream) AddTap(media.Tap) (remove func()) { return func() {} }

// TestVanillaMOHEmbedded: local_stream://moh on the vanilla tree, with no music on disk, plays
// the embedded music-on-hold files (music/<rate>/), not the built-in tone arpeggio.
func TestVanillaMOHEmbedded(t *testing.T) {
	snap := loadVanillaSnap(t, filepath.Join(t.TempDir(), "nosounds"))
	for _, rate := range []int{8000, 16000} {
		files, _ := fs.Glob(sounds.FS(), "music/"+strconv.Itoa(rate)+"/*.wav")
		if len(files) < 2 {
			t.Fatalf("embedded music/%d has %d files", rate, len(files))
		}
		var starts [][]int16
		for _, f := range files {
			src, closeFn, err := playback.OpenSound(f, "", rate)
			if err != nil {
				t.Fatal(err)
			}
			if src.Rate() != rate {
				t.Fatalf("%s: %d Hz", f, src.Rate())
			}
			head := make([]int16, rate/10)
			media.ReadFull(src, head)
			closeFn()
			starts = append(starts, head)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st := &sinkStream{rate: rate, want: rate / 10, cancel: cancel}
		err := playback.PlayTo(ctx, st, "local_stream://moh", playback.Options{Config: snap})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) { // the sink cancels once it has enough
			t.Fatalf("%d Hz: local_stream://moh: %v", rate, err)
		}
		st.mu.Lock()
		if len(st.pcm) < rate/10 {
			st.mu.Unlock()
			t.Fatalf("%d Hz: local_stream://moh played %d samples, want %d", rate, len(st.pcm), rate/10)
		}
		got := st.pcm[:rate/10]
		st.mu.Unlock()
		if !slices.ContainsFunc(starts, func(s []int16) bool { return slices.Equal(s, got) }) {
			t.Errorf("%d Hz: local_stream://moh did not start with an embedded music file", rate)
		}
	}
}
