package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/goswitch/goswitch/internal/peer"
)

// durableConf answers 2000 with voicemail for 1000 and 2001 with record_session plus record,
// on one UDP profile at {{port}} that takes calls without authentication.
const durableConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="domain=127.0.0.1"/>
  <section name="configuration">
    <configuration name="modules.conf">
      <modules><load module="mod_sofia"/><load module="mod_dptools"/><load module="mod_commands"/>
        <load module="mod_voicemail"/><load module="mod_playback"/></modules>
    </configuration>
    <configuration name="sofia.conf">
      <profiles><profile name="internal"><settings>
        <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
        <param name="sip-port" value="{{port}}"/><param name="context" value="default"/>
        <param name="auth-calls" value="false"/><param name="inbound-codec-prefs" value="PCMU"/>
      </settings></profile></profiles>
    </configuration>
    <configuration name="voicemail.conf">
      <profiles><profile name="default"><param name="min-record-len" value="1"/></profile></profiles>
    </configuration>
  </section>
  <section name="directory">
    <domain name="127.0.0.1"><users><user id="1000"><params><param name="password" value="x"/></params></user></users></domain>
  </section>
  <section name="dialplan">
    <context name="default">
      <extension name="vm"><condition field="destination_number" expression="^2000$">
        <action application="answer"/><action application="set" data="skip_greeting=true"/>
        <action application="set" data="skip_instructions=true"/><action application="voicemail" data="default 127.0.0.1 1000"/></condition></extension>
      <extension name="rec"><condition field="destination_number" expression="^2001$">
        <action application="answer"/>
        <action application="record_session" data="$${recordings_dir}/session.wav"/>
        <action application="record" data="$${recordings_dir}/record.wav 120"/></condition></extension>
    </context>
  </section>
</document>
`

// freeUDPPort returns a port free on 127.0.0.1 for UDP, and for TCP too (a sofia profile binds both).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// toneRaw writes one second of a loud 440 Hz tone in raw PCMU for SIPp's rtp_stream.
func toneRaw(t *testing.T, path string) {
	t.Helper()
	b := make([]byte, 8000)
	for i := range b {
		b[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000)))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

type durableRun struct {
	dir, conf, port string
}

func newDurableRun(t *testing.T) *durableRun {
	dir := t.TempDir()
	r := &durableRun{dir: dir, conf: filepath.Join(dir, "conf")}
	if err := os.MkdirAll(r.conf, 0o755); err != nil {
		t.Fatal(err)
	}
	r.writeConf(t)
	return r
}

// writeConf writes the configuration with a fresh port.
func (r *durableRun) writeConf(t *testing.T) {
	t.Helper()
	r.port = strconv.Itoa(freeUDPPort(t))
	if err := os.WriteFile(filepath.Join(r.conf, "freeswitch.xml"), []byte(strings.ReplaceAll(durableConf, "{{port}}", r.port)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *durableRun) args(extra ...string) []string {
	d := r.dir
	return append(extra, "-conf", r.conf, "-log", filepath.Join(d, "log"), "-db", filepath.Join(d, "db"),
		"-run", filepath.Join(d, "run"), "-storage", filepath.Join(d, "storage"),
		"-recordings", filepath.Join(d, "recordings"), "-sounds", filepath.Join(d, "sounds"))
}

// start runs the daemon; the returned function SIGKILLs it.
func (r *durableRun) start(t *testing.T) (*lockedBuffer, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], r.args()...)
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // SIGKILL
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	waitFor(t, out, "goswitch ready")
	return out, kill
}

// console runs the daemon in console mode for one API command and returns what it printed.
func (r *durableRun) console(t *testing.T, command string) string {
	t.Helper()
	r.writeConf(t) // the killed daemon's port may have been taken since
	cmd := exec.Command(os.Args[0], r.args("-c", "-nc")...)
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	cmd.Stdin = strings.NewReader(command + "\n...\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("console: %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("console did not exit:\n%s", out.String())
	}
	return out.String()
}

// call starts SIPp calling dest with a looping tone for up to 60 s; the returned function stops it.
func (r *durableRun) call(t *testing.T, dest string) func() {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		peer.Missing(t, "sipp not installed")
	}
	work := filepath.Join(r.dir, "sipp-"+dest)
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	toneRaw(t, filepath.Join(work, "tone.raw"))
	scen, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "sipp", "uac_load_rtp.xml"))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "127.0.0.1:"+r.port, "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-sf", scen, "-key", "dest", dest, "-m", "1", "-d", "60000", "-nostdin", "-timeout", "90s")
	cmd.Dir = work
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	return stop
}

// wavHeader reads a canonical WAV header: data bytes and byte rate.
func wavHeader(t *testing.T, path string) (riff, data, byteRate int64, size int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[36:40]) != "data" {
		t.Fatalf("%s: not a WAV file (%d bytes)", path, len(b))
	}
	return int64(binary.LittleEndian.Uint32(b[4:])), int64(binary.LittleEndian.Uint32(b[40:])),
		int64(binary.LittleEndian.Uint32(b[28:])), int64(len(b))
}

// waitGrown waits until a file matching glob holds at least secs seconds of 8 kHz 16-bit audio.
func waitGrown(t *testing.T, glob string, secs float64, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(glob)
		if len(m) == 1 {
			if st, err := os.Stat(m[0]); err == nil && st.Size() >= 44+int64(secs*16000) {
				return m[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	m, _ := filepath.Glob(glob)
	t.Fatalf("no recording %s with %.1f s of audio within %v (found %v)", glob, secs, within, m)
	return ""
}

// TestKill9KeepsVoicemail: goswitch is SIGKILLed 5.5 seconds into a voicemail message; the
// next start delivers it (vm_boxcount counts it) with a WAV header covering what was recorded.
func TestKill9KeepsVoicemail(t *testing.T) {
	r := newDurableRun(t)
	_, kill := r.start(t)
	stopCall := r.call(t, "2000")
	path := waitGrown(t, filepath.Join(r.dir, "storage", "voicemail", "default", "127.0.0.1", "1000", "msg_*.wav"), 5.5, 30*time.Second)
	kill()
	stopCall()
	st, _ := os.Stat(path)
	recorded := float64(st.Size()-44) / 16000
	_, hdrData, _, _ := wavHeader(t, path)
	t.Logf("killed with %.2f s on disk, header said %.2f s", recorded, float64(hdrData)/16000)

	out := r.console(t, "vm_boxcount default/1000@127.0.0.1|all")
	if !strings.Contains(out, "1:0:0:0") {
		t.Fatalf("message recorded when goswitch was killed is not in the mailbox (want 1:0:0:0):\n%s", out)
	}
	riff, data, rate, size := wavHeader(t, path)
	if rate != 16000 || riff != data+36 || data != size-44 {
		t.Fatalf("recovered header: riff %d data %d byte rate %d, file %d bytes", riff, data, rate, size)
	}
	kept := float64(data) / float64(rate)
	t.Logf("recovered message: %.2f s of %.2f s recorded", kept, recorded)
	if kept < recorded-1 || kept < 4 {
		t.Fatalf("recovered %.2f s of %.2f s", kept, recorded)
	}
}

// TestKill9KeepsRecordings: record and record_session files left by a SIGKILL have headers
// that cover everything up to the last second.
func TestKill9KeepsRecordings(t *testing.T) {
	r := newDurableRun(t)
	_, kill := r.start(t)
	stopCall := r.call(t, "2001")
	rec := waitGrown(t, filepath.Join(r.dir, "recordings", "record.wav"), 5.5, 30*time.Second)
	kill()
	stopCall()
	for _, path := range []string{rec, filepath.Join(r.dir, "recordings", "session.wav")} {
		riff, data, rate, size := wavHeader(t, path)
		onDisk := size - 44
		t.Logf("%s: %.2f s on disk, header %.2f s", filepath.Base(path), float64(onDisk)/float64(rate), float64(data)/float64(rate))
		if riff != data+36 || data > onDisk || onDisk-data > rate+rate/2 || data < 3*rate {
			t.Errorf("%s after kill -9: header riff %d data %d (byte rate %d), %d bytes of audio on disk",
				filepath.Base(path), riff, data, rate, onDisk)
		}
	}
}
