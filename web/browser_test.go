package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/playback"
	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/codecs/opus"
	_ "github.com/goswitch/goswitch/codecs/telephoneevent"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/xmlconf"
	_ "github.com/goswitch/goswitch/dialplan"
	"github.com/goswitch/goswitch/endpoints/sip"
	_ "github.com/goswitch/goswitch/endpoints/user"
	"github.com/goswitch/goswitch/internal/peer"
	"github.com/goswitch/goswitch/web"
)

const browserConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="max-sessions" value="100"/><param name="sessions-per-second" value="100"/>
  </settings></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
      <param name="sip-port" value="0"/><param name="context" value="public"/>
      <param name="auth-calls" value="true"/><param name="challenge-realm" value="auto_from"/>
      <param name="inbound-codec-prefs" value="%[1]s"/><param name="outbound-codec-prefs" value="%[1]s"/>
      <param name="ws-binding" value=":0"/><param name="wss-binding" value=":0"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="directory"><domain name="127.0.0.1">
  <params><param name="dial-string" value="${sofia_contact(*/${dialed_user}@${dialed_domain})}"/></params>
  <groups><group name="default"><users>
    <user id="1000"><params><param name="password" value="1234"/></params>
      <variables><variable name="user_context" value="default"/></variables></user>
    <user id="1001"><params><param name="password" value="1234"/></params>
      <variables><variable name="user_context" value="default"/></variables></user>
  </users></group></groups>
</domain></section>
<section name="dialplan"><context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="users"><condition field="destination_number" expression="^(10[0-9][0-9])$">
    <action application="bridge" data="user/$1@127.0.0.1"/></condition></extension>
</context></section>
</document>`

// browser is the web phone in chromium, driven by web/test/driver.mjs.
type browser struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
	cmd *exec.Cmd
}

func (b *browser) do(cmd map[string]string) (any, error) {
	b.t.Helper()
	line, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	if !b.out.Scan() {
		return nil, fmt.Errorf("driver ended: %v", b.out.Err())
	}
	var res struct {
		OK    bool   `json:"ok"`
		Value any    `json:"value"`
		Error string `json:"error"`
		Logs  string `json:"logs"`
	}
	if err := json.Unmarshal(b.out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("driver said %q", b.out.Text())
	}
	if !res.OK {
		return nil, fmt.Errorf("%s\npage log:\n%s", res.Error, res.Logs)
	}
	return res.Value, nil
}

func (b *browser) eval(js string) any {
	b.t.Helper()
	v, err := b.do(map[string]string{"op": "eval", "js": js})
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitPeak waits until the browser hears a tone at freq (±4 %).
func (b *browser) waitPeak(what string, freq float64) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last float64
	hits := 0
	for time.Now().Before(deadline) {
		if v, ok := b.eval("goswitchPhone.peak()").(float64); ok {
			last = v
			if math.Abs(v-freq) < freq*0.04 {
				if hits++; hits >= 3 {
					return
				}
			} else {
				hits = 0
			}
		}
		time.Sleep(200 * time.Millisecond) // sampling the analyser, not sequencing
	}
	b.t.Fatalf("%s: the browser does not hear %.0f Hz (last loudest %.0f Hz, status %v)", what, freq, last, b.eval("goswitchPhone.status()"))
}

func (b *browser) waitStatus(want string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := b.eval("goswitchPhone.status()").(string); s == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs, _ := b.do(map[string]string{"op": "logs"})
	b.t.Fatalf("web phone status %v, want %q; page log:\n%v", b.eval("goswitchPhone.status()"), want, logs)
}

func startBrowser(t *testing.T, tone string) *browser {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		peer.Missing(t, "chromium not installed")
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		peer.Missing(t, "node not installed")
	}
	if _, err := os.Stat("node_modules/playwright-core"); err != nil || web.SIPJSDir() == "" {
		peer.Missing(t, "web/node_modules missing: npm ci in web/")
	}
	cmd := exec.Command(nodeBin, "test/driver.mjs")
	cmd.Env = append(os.Environ(), "TONE_WAV="+tone)
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Write([]byte(`{"op":"quit"}` + "\n"))
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return &browser{t: t, in: in, out: bufio.NewScanner(outp), cmd: cmd}
}

// baresip runs a SIP phone on PCMU that sends a sine at 440 Hz (its ausine module): registered
// as 1001 answering automatically, or dialling dial. Its sndfile module writes what it decodes to
// dir/dump-*-dec.wav.
func baresip(t *testing.T, sipAddr string, dial string) (cmd *exec.Cmd, dir string, exited <-chan struct{}) {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		peer.Missing(t, "baresip not installed")
	}
	dir = t.TempDir()
	l, _ := net.ListenPacket("udp", "127.0.0.1:0")
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	conf := fmt.Sprintf("poll_method epoll\nsip_listen 127.0.0.1:%d\nsip_trans_def udp\naudio_player aubridge,nil\naudio_source ausine,440\naudio_alert aubridge,nil\nausrc_srate 48000\nausrc_channels 2\nauplay_srate 48000\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\nmodule sndfile.so\nsnd_path %s\nmodule_tmp uuid.so\nmodule_tmp account.so\nmodule_app menu.so\n", port, dir)
	os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644)
	acct := fmt.Sprintf("<sip:1001@%s>;auth_pass=1234;regint=60;answermode=auto\n", sipAddr)
	os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644)
	args := []string{"-f", dir, "-t", "60"}
	if dial != "" {
		args = append(args, "-e", "/dial "+dial)
	}
	cmd = exec.Command(bin, args...)
	out := &lockedBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("baresip (%s):\n%s", dial, out.tail(3000))
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return cmd, dir, done
}

// heardTone reports whether the audio baresip decoded (its sndfile dump in dir) carries freq:
// that bin above its neighbours for most of the second half of the call.
func heardTone(t *testing.T, dir string, freq float64) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		t.Logf("no sndfile dump in %s", dir)
		return false
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := audio.NewWavReader(f)
	if err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	var pcm []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		pcm = append(pcm, buf[:n]...)
		if err != nil || n == 0 {
			break
		}
	}
	rate := float64(r.Rate())
	win := int(rate / 10) // 100 ms windows
	hits, total := 0, 0
	for off := len(pcm) / 2; off+win <= len(pcm); off += win {
		w := pcm[off : off+win]
		total++
		if p := goertzel(w, freq, rate); p > 20*goertzel(w, freq*0.7, rate) && p > 20*goertzel(w, freq*1.3, rate) && p > 1e4 {
			hits++
		}
	}
	t.Logf("baresip heard %.0f Hz in %d of %d windows (%d samples at %.0f Hz)", freq, hits, total, len(pcm), rate)
	return total > 0 && hits*2 > total
}

func goertzel(pcm []int16, f, rate float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/rate)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v) + k*s1 - s2
		s2, s1 = s1, s
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(pcm)*len(pcm))
}

// TestBrowserWebPhone: Debian's chromium loads the web phone from the wss port, registers over
// WSS and, with WebRTC (ICE-lite, DTLS-SRTP): (a) calls 9196 and hears its own 1 kHz tone back;
// (b) calls baresip (plain RTP, PCMU, 440 Hz) and hears it while baresip hears the browser's
// 1 kHz (its decoded audio, dumped by its sndfile module); (c) is called by baresip and answers. On PCMU the browser's media is
// relayed; on Opus (the browser's first choice) goswitch echoes Opus as it came and transcodes
// Opus <-> PCMU for baresip.
func TestBrowserWebPhone(t *testing.T) {
	t.Run("PCMU", func(t *testing.T) { testBrowserWebPhone(t, "PCMU,PCMA", "PCMU") })
	t.Run("OPUS", func(t *testing.T) {
		if !opus.Available {
			peer.Missing(t, "goswitch built without Opus (cgo, libopus-dev)")
		}
		testBrowserWebPhone(t, "OPUS,PCMU,PCMA", "opus")
	})
}

func testBrowserWebPhone(t *testing.T, prefs, wantCodec string) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		peer.Missing(t, "sox not installed")
	}
	tone := filepath.Join(t.TempDir(), "tone.wav")
	if out, err := exec.Command(sox, "-n", "-r", "48000", "-c", "1", "-b", "16", tone, "synth", "10", "sine", "1000", "vol", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	dir := t.TempDir()
	logs := &lockedBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("goswitch log:\n%s", logs.tail(20000))
		}
	})
	os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(fmt.Sprintf(browserConf, prefs)), 0o644)
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Dirs: core.Dirs{Conf: dir, DB: filepath.Join(dir, "db"), Certs: filepath.Join(dir, "certs")},
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Stop(ctx, core.CauseSystemShutdown)
	})
	ep, _ := h.Endpoint("sofia")
	prof, _ := ep.(*sip.Endpoint).Profile("internal")
	sipAddr := prof.Addr().String()

	b := startBrowser(t, tone)
	if _, err := b.do(map[string]string{"op": "open", "url": "https://" + prof.WSSAddr().String() + "/"}); err != nil {
		t.Fatal(err)
	}
	b.eval("goswitchPhone.register('1000', '1234', '127.0.0.1')")
	b.waitStatus("registered")

	// (a) echo
	b.eval("goswitchPhone.call('9196')")
	b.waitStatus("in call")
	b.waitPeak("9196 echo", 1000)
	if ss := h.Sessions(); len(ss) != 1 {
		t.Errorf("%d sessions in the echo call, want the browser's", len(ss))
	} else if c := ss[0].Var("read_codec"); !strings.EqualFold(c, wantCodec) {
		t.Errorf("browser leg's codec %q, want %s", c, wantCodec)
	}
	b.eval("goswitchPhone.hangup()")
	b.waitStatus("registered")

	// (b) the browser calls a SIP phone
	phone, phoneDir, phoneExited := baresip(t, sipAddr, "")
	deadline := time.Now().Add(10 * time.Second)
	for len(ep.(*sip.Endpoint).Contacts("internal", "1001", "127.0.0.1")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	b.eval("goswitchPhone.call('1001')")
	b.waitStatus("in call")
	b.waitPeak("call to baresip", 440)
	var phoneLeg *core.Session
	for _, s := range h.Sessions() {
		if s.Direction() == core.Outbound {
			phoneLeg = s
		}
	}
	if phoneLeg == nil {
		t.Fatal("no leg to baresip")
	}
	phoneLeg.SyncRTPStats()
	if n := phoneLeg.Var("rtp_audio_out_packet_count"); n == "" || n == "0" {
		t.Errorf("goswitch sent baresip %q packets of the browser's audio", n)
	}
	// let baresip take in a second and a half of the browser's audio before the hangup
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if files, _ := filepath.Glob(filepath.Join(phoneDir, "dump-*-dec.wav")); len(files) > 0 {
			if st, err := os.Stat(files[0]); err == nil && st.Size() > 24000 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.eval("goswitchPhone.hangup()")
	b.waitStatus("registered")
	phone.Process.Signal(os.Interrupt) // baresip closes its dump (header sizes) on the way out
	select {
	case <-phoneExited:
	case <-time.After(5 * time.Second):
	}
	if !heardTone(t, phoneDir, 1000) {
		t.Error("baresip did not hear the browser's 1 kHz tone")
	}

	// (c) a SIP phone calls the browser
	baresip(t, sipAddr, "sip:1000@"+sipAddr)
	deadline = time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && b.eval("goswitchPhone.ringing()") != true {
		time.Sleep(100 * time.Millisecond)
	}
	b.eval("goswitchPhone.answer()")
	b.waitStatus("in call")
	b.waitPeak("call from baresip", 440)
	b.eval("goswitchPhone.hangup()")
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
