package voicemail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/apps/voicemail"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

const vmConf = `<section name="configuration">
<configuration name="voicemail.conf">
  <profiles>
    <profile name="default">
      <param name="tone-spec" value="%(400, 0, 640)"/>
      <param name="min-record-len" value="1"/>
      <param name="max-record-len" value="8"/>
      <param name="record-silence-threshold" value="200"/>
      <param name="record-silence-hits" value="1"/>
      <param name="digit-timeout" value="1500"/>
      <param name="operator-key" value="9"/>
      <param name="operator-extension" value="operator XML default"/>
    </profile>
  </profiles>
</configuration>
</section>
<section name="directory">
  <domain name="example.com">
    <users>
      <user id="1000"><params><param name="password" value="x"/><param name="vm-password" value="4321"/></params></user>
      <user id="1001"><params><param name="vm-enabled" value="false"/></params></user>
      <user id="1002"><params><param name="vm-password" value="1111"/></params></user>
    </users>
  </domain>
</section>`

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in   string
		want voicemail.Args
		ok   bool
	}{
		{"default example.com 1000", voicemail.Args{Profile: "default", Domain: "example.com", ID: "1000"}, true},
		{"check default example.com", voicemail.Args{Check: true, Profile: "default", Domain: "example.com"}, true},
		{"check auth default example.com 1000", voicemail.Args{Check: true, Auth: true, Profile: "default", Domain: "example.com", ID: "1000"}, true},
		{"default example.com", voicemail.Args{}, false},
		{"check default", voicemail.Args{}, false},
	}
	for _, tt := range tests {
		got, err := voicemail.ParseArgs(tt.in)
		if (err == nil) != tt.ok || tt.ok && got != tt.want {
			t.Errorf("ParseArgs(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// prompt waits until the phone hears 200 ms of speech from now on: the prompt the next key
// answers (the key before it cut the previous one), so keys are pressed while their prompt plays,
// as a caller does.
func prompt(ph *playtest.Phone) {
	ph.WaitVoiced(ph.Mark(), 300, 200*time.Millisecond, 10*time.Second)
}

func waitTone(t *testing.T, ph *playtest.Phone, freq float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	mark := ph.Mark()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		h := ph.HeardSince(mark)
		if len(h) > 800 && playtest.Goertzel(h[len(h)-800:], freq, 8000) > 0.5 {
			return
		}
	}
	t.Fatalf("no %v Hz tone within %v", freq, within)
}

func boxcount(t *testing.T, h *core.Host, args string) string {
	t.Helper()
	out, err := h.APIOutput(context.Background(), "vm_boxcount", args)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDepositAndCheck(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	sub := h.Bus.Subscribe(func(e *event.Event) bool {
		return e.Name == event.MessageWaiting || e.Subclass == "vm::maintenance"
	}, 64)
	defer sub.Close()

	// Leave a message: greeting, beep, 1.5 s of 1200 Hz, '#', then '2' saves.
	s, ph := playtest.NewCall(t, h, "5551234")
	playtest.Run(t, s, "voicemail", "default example.com 1000")
	waitTone(t, ph, 640, 15*time.Second)
	if v := playtest.Voiced(ph.Heard(), 8000, 300); v < 2*time.Second {
		t.Errorf("greeting: only %v of speech before the beep", v)
	}
	time.Sleep(450 * time.Millisecond)
	ph.Tone(1200, 8000, 1500*time.Millisecond)
	time.Sleep(1600 * time.Millisecond)
	ph.DTMF("#")
	time.Sleep(500 * time.Millisecond)
	ph.DTMF("2") // save
	time.Sleep(500 * time.Millisecond)
	ph.DTMF("*") // urgent
	playtest.Wait(t, s, 15*time.Second)

	dir := filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1000")
	files, _ := filepath.Glob(filepath.Join(dir, "msg_*.wav"))
	if len(files) != 1 {
		t.Fatalf("messages in %s: %v", dir, files)
	}
	pcm := readWav(t, files[0])
	if d := time.Duration(len(pcm)) * time.Second / 8000; d < time.Second || d > 3*time.Second {
		t.Errorf("message length %v", d)
	}
	if g := playtest.Goertzel(pcm, 1200, 8000); g < 0.4 {
		t.Errorf("message 1200 Hz share %.2f", g)
	}
	if got := boxcount(t, h, "1000@example.com"); got != "1" {
		t.Errorf("vm_boxcount = %q", got)
	}
	if got := boxcount(t, h, "default/1000@example.com|all"); got != "1:0:1:0" {
		t.Errorf("vm_boxcount all = %q", got)
	}
	var sawMWI, sawLeave bool
	for len(sub.C()) > 0 {
		e := <-sub.C()
		if e.Name == event.MessageWaiting && e.Get("MWI-Messages-Waiting") == "yes" &&
			e.Get("MWI-Message-Account") == "1000@example.com" && e.Get("MWI-Voice-Message") == "1/0" {
			sawMWI = true
		}
		if e.Get("VM-Action") == "leave-message" && e.Get("VM-Caller-ID-Number") == "5551234" {
			sawLeave = true
		}
	}
	if !sawMWI || !sawLeave {
		t.Errorf("events: mwi=%v leave-message=%v", sawMWI, sawLeave)
	}

	// Retrieve it: password, main menu 1, hear the message, delete it with 7, exit with #.
	c, pc := playtest.NewCall(t, h, "1000")
	playtest.Run(t, c, "voicemail", "check default example.com 1000")
	prompt(pc) // "please enter your password"
	pc.DTMF("4321#")
	prompt(pc) // "you have one new message"
	pc.DTMF("1")
	waitTone(t, pc, 1200, 20*time.Second) // number, date, then the message itself
	pc.DTMF("7")
	time.Sleep(2 * time.Second)
	pc.DTMF("#")
	playtest.Wait(t, c, 20*time.Second)
	if c.Var("voicemail_authorized") != "true" {
		t.Error("not authorized")
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Errorf("deleted message file still there (%v)", err)
	}
	if got := boxcount(t, h, "1000@example.com|all"); got != "0:0:0:0" {
		t.Errorf("after delete vm_boxcount all = %q", got)
	}
	var sawNo bool
	for len(sub.C()) > 0 {
		e := <-sub.C()
		if e.Name == event.MessageWaiting && e.Get("MWI-Messages-Waiting") == "no" {
			sawNo = true
		}
	}
	if !sawNo {
		t.Error("no MWI 'no' after the message was read and deleted")
	}
}

func TestBadPasswordAndDisabledBox(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	c, pc := playtest.NewCall(t, h, "1000")
	playtest.Run(t, c, "voicemail", "check default example.com 1000")
	for range 3 {
		time.Sleep(700 * time.Millisecond)
		pc.DTMF("1111#")
	}
	playtest.Wait(t, c, 20*time.Second)
	if c.Var("voicemail_authorized") == "true" {
		t.Error("wrong password accepted")
	}
	d, _ := playtest.NewCall(t, h, "2000")
	start := time.Now()
	playtest.Run(t, d, "voicemail", "default example.com 1001")
	playtest.Wait(t, d, 10*time.Second)
	if files, _ := filepath.Glob(filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1001", "*")); len(files) != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("disabled mailbox took a message: %v", files)
	}
	if got := boxcount(t, h, "1000@example.com"); got != "0" {
		t.Errorf("vm_boxcount = %q", got)
	}
	if got := boxcount(t, h, "nobody"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("bad vm_boxcount args = %q", got)
	}
}

func readWav(t *testing.T, path string) []int16 {
	pcm, _ := playtest.ReadWav(t, path)
	return pcm
}

func TestMessageQueryAnswersMWI(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.MessageWaiting }, 8)
	defer sub.Close()
	q := h.Bus.New(event.MessageQuery, "")
	q.Add("Message-Account", "sip:1000@example.com")
	h.Bus.Publish(q)
	select {
	case e := <-sub.C():
		if e.Get("MWI-Message-Account") != "1000@example.com" || e.Get("MWI-Messages-Waiting") != "no" || e.Get("MWI-Voice-Message") != "0/0" {
			t.Errorf("MWI: %v", e.Headers)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no MESSAGE_WAITING for MESSAGE_QUERY")
	}
}

func TestLoginAsksForIDAndRecordsName(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	c, pc := playtest.NewCall(t, h, "1000")
	playtest.Run(t, c, "voicemail", "check default example.com")
	prompt(pc) // "please enter your id"
	pc.DTMF("1000#")
	prompt(pc) // "password"
	pc.DTMF("4321#")
	prompt(pc)
	pc.DTMF("5") // config menu (cuts the announcements' menu prompt)
	prompt(pc)
	pc.DTMF("3") // record name
	waitTone(t, pc, 640, 20*time.Second)
	time.Sleep(450 * time.Millisecond)
	pc.Tone(900, 8000, 1500*time.Millisecond)
	time.Sleep(1600 * time.Millisecond)
	pc.DTMF("#") // stop recording
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("2") // save
	time.Sleep(500 * time.Millisecond)
	c.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, c, 10*time.Second)
	if c.Var("voicemail_authorized") != "true" {
		t.Fatal("login with prompted id failed")
	}
	name := filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1000", "recorded_name.wav")
	pcm := readWav(t, name)
	if g := playtest.Goertzel(pcm, 900, 8000); g < 0.4 {
		t.Errorf("recorded name 900 Hz share %.2f", g)
	}
	// The next caller hears the recorded name in the greeting.
	s, ps := playtest.NewCall(t, h, "5550000")
	playtest.Run(t, s, "voicemail", "default example.com 1000")
	waitTone(t, ps, 640, 20*time.Second)
	if g := playtest.Goertzel(ps.Heard(), 900, 8000); g < 0.02 {
		t.Errorf("recorded name not in the greeting (%.3f)", g)
	}
	s.Hangup(core.CauseNormalClearing)
	playtest.Wait(t, s, 10*time.Second)
}

// inject stores a message for a mailbox the way a deposit would.
func inject(t *testing.T, h *core.Host, id string, freq float64) string {
	t.Helper()
	dir := filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "msg_injected.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := audio.NewWavWriter(f, 8000, audio.WavPCM)
	g, _ := audio.NewToneGenerator("v=-6;%(3000,0,"+strings.TrimSuffix(strings.TrimSuffix(fmt.Sprint(freq), ".0"), ".")+")", 8000)
	buf := make([]int16, 24000)
	n, _ := media.ReadFull(g, buf)
	if err := w.Write(buf[:n]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	db, err := voicemail.Of(h).DB("default")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `INSERT INTO voicemail_msgs VALUES (?, 0, ?, 'example.com', 'inj-1', 'Bob', '5551212', 'inbox', ?, 3, '', 'B_NORMAL', '')`,
		time.Now().Unix(), id, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestForwardMessage(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	inject(t, h, "1000", 1300)
	c, pc := playtest.NewCall(t, h, "1000")
	playtest.Run(t, c, "voicemail", "check default example.com 1000")
	prompt(pc) // "please enter your password"
	pc.DTMF("4321#")
	prompt(pc)
	pc.DTMF("1") // new messages
	waitTone(t, pc, 1300, 20*time.Second)
	pc.DTMF("8") // forward (stops the message)
	prompt(pc)
	pc.DTMF("8") // no introduction
	prompt(pc)   // "enter the extension"
	pc.DTMF("1002#")
	time.Sleep(1500 * time.Millisecond)
	pc.DTMF("#") // leave the message menu
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("#") // leave voicemail
	playtest.Wait(t, c, 20*time.Second)
	if got := boxcount(t, h, "1002@example.com|all"); got != "1:0:0:0" {
		t.Errorf("1002 after forward: %q", got)
	}
	if got := boxcount(t, h, "1000@example.com|all"); got != "0:1:0:0" {
		t.Errorf("1000 after listening: %q", got)
	}
	files, _ := filepath.Glob(filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1002", "msg_*.wav"))
	if len(files) != 1 {
		t.Fatalf("forwarded files: %v", files)
	}
	if g := playtest.Goertzel(readWav(t, files[0]), 1300, 8000); g < 0.5 {
		t.Errorf("forwarded message content (1300 Hz share %.2f)", g)
	}
}

func TestInjectAPI(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	src := inject(t, h, "1000", 1000) // a file to broadcast (also one message for 1000)
	out, err := h.APIOutput(context.Background(), "vm_inject", "domain=example.com "+src+" 5551000 'Front Desk'")
	if err != nil {
		t.Fatal(err)
	}
	if out != "+OK 2 messages injected\n" { // 1000 and 1002; 1001 has voicemail disabled
		t.Errorf("vm_inject: %q", out)
	}
	if got := boxcount(t, h, "1000@example.com"); got != "2" {
		t.Errorf("1000 new = %q", got)
	}
	if got := boxcount(t, h, "1002@example.com"); got != "1" {
		t.Errorf("1002 new = %q", got)
	}
	files, _ := filepath.Glob(filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1002", "msg_*_broadcast_msg_injected.wav"))
	if len(files) != 1 {
		t.Errorf("broadcast file: %v", files)
	}
	if out, _ := h.APIOutput(context.Background(), "vm_inject", "nobody@example.com "+src); !strings.HasPrefix(out, "-ERR") {
		t.Errorf("inject to unknown box: %q", out)
	}
}
