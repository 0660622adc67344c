package playback_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/internal/testconf"
)

const langConf = `<section name="configuration"/>
<section name="languages">
  <language name="en" say-module="en" sound-prefix="$${sound_prefix}">
    <phrases>
      <macros>
        <macro name="count_it" pause="50">
          <input pattern="^(\d+):(.*)$" break_on_match="true">
            <match>
              <action function="play-file" data="tone_stream://%(300,0,$2)"/>
              <action function="say" data="$1" method="pronounced" type="number"/>
            </match>
          </input>
          <input pattern="^(.*)$">
            <match>
              <action function="play-file" data="tone_stream://%(300,0,1500)"/>
            </match>
            <nomatch>
              <action function="play-file" data="tone_stream://%(300,0,2000)"/>
            </nomatch>
          </input>
        </macro>
      </macros>
      <macros name="grp">
        <macro name="beep">
          <input pattern="(.*)"><match><action function="play-file" data="tone_stream://%(200,0,$1)"/></match></input>
        </macro>
      </macros>
    </phrases>
  </language>
</section>`

func TestPlaybackToneAndVars(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "playback", "tone_stream://%(600,0,440)")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard, 440, 8000); g < 0.5 {
		t.Errorf("440 Hz share of what the phone heard = %.2f, want > 0.5", g)
	}
	if v := playtest.Voiced(heard, 8000, 1000); v < 500*time.Millisecond || v > 700*time.Millisecond {
		t.Errorf("tone lasted %v, want ~600ms", v)
	}
	if got := s.Var("current_application_response"); got != "FILE PLAYED" {
		t.Errorf("response = %q", got)
	}
	if ms, _ := strconv.Atoi(s.Var("playback_ms")); ms != 600 {
		t.Errorf("playback_ms = %d, want 600", ms)
	}
	if got := s.Var("playback_samples"); got != "4800" {
		t.Errorf("playback_samples = %q", got)
	}
}

func TestPlaybackEmbeddedPromptAndMissing(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "playback", "voicemail/vm-goodbye.wav", "playback", "nope/missing.wav")
	playtest.Wait(t, s, 5*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 300*time.Millisecond {
		t.Errorf("embedded prompt: only %v of speech heard", v)
	}
	if got := s.Var("current_application_response"); got != "FILE NOT FOUND" {
		t.Errorf("missing file response = %q", got)
	}
}

func TestPlaybackSoundPrefixRateDir(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	dir := t.TempDir()
	// <prefix>/ivr/8000/x.wav wins over the embedded prompts and over <prefix>/ivr/x.wav.
	writeTone(t, filepath.Join(dir, "ivr", "8000", "ivr-welcome.wav"), 8000, 700, 400*time.Millisecond)
	writeTone(t, filepath.Join(dir, "ivr", "ivr-welcome.wav"), 8000, 1300, 400*time.Millisecond)
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"sound_prefix", dir})
	playtest.Run(t, s, "playback", "ivr/ivr-welcome.wav")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard, 700, 8000); g < 0.5 {
		t.Errorf("700 Hz (rate dir) share = %.2f", g)
	}
	// A 16 kHz file is resampled to the call's rate.
	writeTone(t, filepath.Join(dir, "hi.wav"), 16000, 1000, 300*time.Millisecond)
	s2, ph2 := playtest.NewCall(t, h, "1001")
	playtest.Run(t, s2, "playback", filepath.Join(dir, "hi.wav")+"@@1600")
	playtest.Wait(t, s2, 5*time.Second)
	if g := playtest.Goertzel(ph2.Heard(), 1000, 8000); g < 0.5 {
		t.Errorf("1000 Hz from 16 kHz file share = %.2f", g)
	}
	if got := s2.Var("playback_ms"); got != "200" {
		t.Errorf("playback_ms after @@1600 = %s, want 200", got)
	}
}

func TestPlaybackTerminator(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"playback_terminators", "#*"})
	start := time.Now()
	playtest.Run(t, s, "playback", "tone_stream://%(10000,0,440)")
	time.Sleep(300 * time.Millisecond)
	ph.DTMF("5") // not a terminator: ignored
	time.Sleep(200 * time.Millisecond)
	ph.DTMF("#")
	playtest.Wait(t, s, 5*time.Second)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("playback ran %v after the terminator", el)
	}
	if got := s.Var("playback_terminator_used"); got != "#" {
		t.Errorf("playback_terminator_used = %q", got)
	}
}

func TestFileStringLoopsSilence(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "playback", "{loops=2}file_string://tone_stream://%(200,0,600)!silence_stream://200!tone_stream://%(200,0,900)")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if got := s.Var("playback_ms"); got != "1200" {
		t.Errorf("playback_ms = %s, want 1200", got)
	}
	if v := playtest.Voiced(heard, 8000, 1000); v < 700*time.Millisecond || v > 900*time.Millisecond {
		t.Errorf("voiced %v, want ~800ms", v)
	}
	if g6, g9 := playtest.Goertzel(heard, 600, 8000), playtest.Goertzel(heard, 900, 8000); g6 < 0.3 || g9 < 0.3 {
		t.Errorf("600/900 Hz shares = %.2f/%.2f", g6, g9)
	}
}

func TestGentones(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "gentones", "%(200,100,1200)|3")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if v := playtest.Voiced(heard, 8000, 1000); v < 500*time.Millisecond || v > 700*time.Millisecond {
		t.Errorf("3 loops of 200 ms: voiced %v", v)
	}
	if g := playtest.Goertzel(heard, 1200, 8000); g < 0.5 {
		t.Errorf("1200 Hz share = %.2f", g)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "read", "2 6 tone_stream://%(5000,0,440) got 3000 #")
	time.Sleep(300 * time.Millisecond)
	ph.DTMF("12")
	time.Sleep(100 * time.Millisecond)
	ph.DTMF("3#")
	playtest.Wait(t, s, 5*time.Second)
	if got := s.Var("got"); got != "123" {
		t.Errorf("got = %q", got)
	}
	if s.Var("read_result") != "success" || s.Var("read_terminator_used") != "#" {
		t.Errorf("read_result=%q terminator=%q", s.Var("read_result"), s.Var("read_terminator_used"))
	}
	// The prompt was cut by the first digit.
	if v := playtest.Voiced(ph.Heard(), 8000, 1000); v > time.Second {
		t.Errorf("prompt kept playing for %v after the first digit", v)
	}

	s2, _ := playtest.NewCall(t, h, "1001")
	start := time.Now()
	playtest.Run(t, s2, "read", "1 1 silence_stream://100 got 1000 #")
	playtest.Wait(t, s2, 5*time.Second)
	if s2.Var("read_result") != "timeout" || time.Since(start) < time.Second {
		t.Errorf("timeout read: result %q after %v", s2.Var("read_result"), time.Since(start))
	}
}

func TestPlayAndGetDigits(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "play_and_get_digits", "4 4 3 2000 # tone_stream://%(3000,0,440) tone_stream://%(400,0,1800) pin ^12\\d\\d$ 500")
	time.Sleep(200 * time.Millisecond)
	ph.DTMF("9999")
	time.Sleep(1200 * time.Millisecond) // invalid sound plays (1800 Hz), then the prompt again
	mark := ph.Mark()
	ph.DTMF("1234")
	playtest.Wait(t, s, 6*time.Second)
	if got := s.Var("pin"); got != "1234" {
		t.Errorf("pin = %q", got)
	}
	if got := s.Var("pin_invalid"); got != "9999" {
		t.Errorf("pin_invalid = %q", got)
	}
	if g := playtest.Goertzel(ph.Heard()[:mark], 1800, 8000); g < 0.05 {
		t.Errorf("invalid sound not heard (1800 Hz share %.3f)", g)
	}
	if s.Var("read_result") != "success" {
		t.Errorf("read_result = %q", s.Var("read_result"))
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	path := filepath.Join(t.TempDir(), "sub", "rec.wav")
	ph.Tone(1000, 8000, 5*time.Second)
	playtest.Run(t, s, "record", path+" 20")
	time.Sleep(1 * time.Second)
	ph.DTMF("*")
	playtest.Wait(t, s, 5*time.Second)
	pcm, rate := readWav(t, path)
	if rate != 8000 {
		t.Errorf("rate %d", rate)
	}
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 700*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("recorded %v, want ~1s", d)
	}
	if g := playtest.Goertzel(pcm, 1000, 8000); g < 0.5 {
		t.Errorf("1000 Hz share in recording = %.2f", g)
	}
	if s.Var("playback_terminator_used") != "*" || s.Var("record_ms") == "" {
		t.Errorf("vars: term=%q record_ms=%q", s.Var("playback_terminator_used"), s.Var("record_ms"))
	}

	// Silence detection ends a recording: threshold 200, 1 s of silence.
	s2, _ := playtest.NewCall(t, h, "1001")
	path2 := filepath.Join(t.TempDir(), "quiet.wav")
	start := time.Now()
	playtest.Run(t, s2, "record", path2+" 10 200 1")
	playtest.Wait(t, s2, 5*time.Second)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("silence did not stop the recording (%v)", el)
	}
}

func TestRecordSessionStereo(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"RECORD_STEREO", "true"})
	path := filepath.Join(t.TempDir(), "call.wav")
	ph.Tone(1000, 8000, 5*time.Second)
	playtest.Run(t, s, "record_session", path, "playback", "tone_stream://%(1000,0,440)", "stop_record_session", path)
	playtest.Wait(t, s, 5*time.Second)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ch := binary.LittleEndian.Uint16(data[22:]); ch != 2 {
		t.Fatalf("channels = %d", ch)
	}
	n := int(binary.LittleEndian.Uint32(data[40:])) / 4
	left, right := make([]int16, n), make([]int16, n)
	for i := range n {
		left[i] = int16(binary.LittleEndian.Uint16(data[44+4*i:]))
		right[i] = int16(binary.LittleEndian.Uint16(data[46+4*i:]))
	}
	if d := time.Duration(n) * time.Second / 8000; d < 800*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("recorded %v", d)
	}
	if g := playtest.Goertzel(left, 1000, 8000); g < 0.5 {
		t.Errorf("left (caller) 1000 Hz share = %.2f", g)
	}
	if g := playtest.Goertzel(right, 440, 8000); g < 0.5 {
		t.Errorf("right (played) 440 Hz share = %.2f", g)
	}
}

func TestPhraseAndSay(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "phrase", "count_it,42:700", "phrase", "beep@grp,1100", "say", "en number pronounced 7")
	playtest.Wait(t, s, 8*time.Second)
	heard := ph.Heard()
	// break_on_match: only the first input ran (700 Hz, not 1500 Hz), then "forty two" from digits.
	if g := playtest.Goertzel(heard, 700, 8000); g < 0.02 {
		t.Errorf("700 Hz from $2 substitution missing (%.3f)", g)
	}
	if g := playtest.Goertzel(heard, 1500, 8000); g > 0.01 {
		t.Errorf("second input ran despite break_on_match (%.3f)", g)
	}
	if g := playtest.Goertzel(heard, 1100, 8000); g < 0.02 {
		t.Errorf("macro@group not played (%.3f)", g)
	}
	if v := playtest.Voiced(heard, 8000, 300); v < 1200*time.Millisecond {
		t.Errorf("only %v voiced; say prompts missing?", v)
	}

	s2, _ := playtest.NewCall(t, h, "1001")
	playtest.Run(t, s2, "phrase", "nosuch,1")
	playtest.Wait(t, s2, 5*time.Second)
	if got := s2.Var("current_application_response"); got != "NOTHING" {
		t.Errorf("unknown macro response = %q", got)
	}
}

func TestVanillaPhraseDemoIVR(t *testing.T) {
	t.Parallel()
	h := playtest.NewHostDir(t, testconf.Vanilla(t))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "phrase", "voicemail_message_count,3:new", "phrase", "demo_ivr_sub_menu_short")
	playtest.Wait(t, s, 10*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 2*time.Second {
		t.Errorf("vanilla phrases: only %v voiced", v)
	}
	if s.Var("current_application_response") != "PHRASE PLAYED" {
		t.Errorf("response %q", s.Var("current_application_response"))
	}
}

func TestLocalStreamMOH(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"playback_timeout_sec", "1"})
	playtest.Run(t, s, "playback", "local_stream://moh")
	playtest.Wait(t, s, 5*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 600*time.Millisecond {
		t.Errorf("hold music: %v voiced", v)
	}
}

func writeTone(t *testing.T, path string, rate int, freq float64, d time.Duration) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.NewWavWriter(f, rate, audio.WavPCM)
	if err != nil {
		t.Fatal(err)
	}
	g, err := audio.NewToneGenerator("v=-6;%("+strconv.Itoa(int(d/time.Millisecond))+",0,"+strconv.Itoa(int(freq))+")", rate)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, rate*int(d/time.Millisecond)/1000)
	n, _ := media.ReadFull(g, buf)
	if err := w.Write(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readWav(t *testing.T, path string) ([]int16, int) { return playtest.ReadWav(t, path) }

func TestRecordSessionClosedOnHangup(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	path := filepath.Join(t.TempDir(), "mono.wav")
	ph.Tone(1000, 8000, 5*time.Second)
	playtest.Run(t, s, "record_session", path, "playback", "tone_stream://%(10000,0,440)")
	time.Sleep(700 * time.Millisecond)
	s.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, s, 5*time.Second)
	var pcm []int16
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) { // the writer finishes after the channel is gone
		if data, err := os.ReadFile(path); err == nil && len(data) > 44 && binary.LittleEndian.Uint32(data[40:]) > 0 {
			pcm, _ = readWav(t, path)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 400*time.Millisecond {
		t.Fatalf("mono recording after hangup: %v", d)
	}
	// Mono mixes both directions.
	if g1, g4 := playtest.Goertzel(pcm, 1000, 8000), playtest.Goertzel(pcm, 440, 8000); g1 < 0.2 || g4 < 0.2 {
		t.Errorf("mixed recording shares 1000 Hz %.2f, 440 Hz %.2f", g1, g4)
	}
}

func TestLocalStreamFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTone(t, filepath.Join(dir, "a.wav"), 8000, 900, 300*time.Millisecond)
	conf := playtest.Conf(`<section name="configuration">
<configuration name="local_stream.conf">
  <directory name="moh/8000" path="` + dir + `"><param name="shuffle" value="true"/></directory>
</configuration>
</section>`)
	h := playtest.NewHost(t, conf)
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"playback_timeout_sec", "1"})
	playtest.Run(t, s, "playback", "local_stream://moh")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard, 900, 8000); g < 0.5 {
		t.Errorf("local_stream file (900 Hz) share %.2f", g)
	}
	if v := playtest.Voiced(heard, 8000, 1000); v < 800*time.Millisecond {
		t.Errorf("the music did not loop: %v voiced in 1 s", v)
	}
}

func TestPlayAndGetDigitsFailureTransfer(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "play_and_get_digits", "1 1 2 1000 # silence_stream://100 silence_stream://100 choice ^[12]$ 500 'failed XML other'")
	time.Sleep(300 * time.Millisecond)
	ph.DTMF("9") // invalid, then a timeout: two tries used up
	playtest.Wait(t, s, 8*time.Second)
	if p := s.Profile(); p.DestNumber != "failed" || p.Context != "other" {
		t.Errorf("after failures the call went to %s@%s, want failed@other", p.DestNumber, p.Context)
	}
	if s.Var("choice") != "" || s.Var("choice_invalid") != "9" || s.Var("read_result") != "failure" {
		t.Errorf("choice=%q choice_invalid=%q read_result=%q", s.Var("choice"), s.Var("choice_invalid"), s.Var("read_result"))
	}
}

func TestRecordSessionReadOnly(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000", [2]string{"RECORD_READ_ONLY", "true"}, [2]string{"RECORD_STEREO", "true"})
	path := filepath.Join(t.TempDir(), "read.wav")
	ph.Tone(1000, 8000, 5*time.Second)
	playtest.Run(t, s, "record_session", path+" +1", "playback", "tone_stream://%(1500,0,440)")
	playtest.Wait(t, s, 5*time.Second)
	pcm, _ := readWav(t, path)
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("+1 limit: recorded %v", d)
	}
	if g1, g4 := playtest.Goertzel(pcm, 1000, 8000), playtest.Goertzel(pcm, 440, 8000); g1 < 0.5 || g4 > 0.01 {
		t.Errorf("read-only recording: 1000 Hz %.2f, 440 Hz %.3f", g1, g4)
	}
}

func TestSayTTS(t *testing.T) {
	t.Parallel()
	testconf.Program(t, "espeak-ng")
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "playback", "say:Press one for sales")
	playtest.Wait(t, s, 10*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 500*time.Millisecond {
		t.Errorf("say: produced %v of speech", v)
	}
	if got := s.Var("current_application_response"); got != "FILE PLAYED" {
		t.Errorf("response %q", got)
	}
}

func TestSpeakApp(t *testing.T) {
	t.Parallel()
	testconf.Program(t, "espeak-ng")
	h := playtest.NewHost(t, playtest.Conf(langConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "speak", "flite|kal|Hello there, this is a test")
	playtest.Wait(t, s, 10*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 800*time.Millisecond {
		t.Errorf("speak produced %v of speech", v)
	}
}
