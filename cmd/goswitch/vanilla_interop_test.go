package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/internal/peer"
	"github.com/goswitch/goswitch/internal/testconf"
)

// The vanilla interop suite runs the goswitch daemon (this test binary, see daemon_test.go) on
// FreeSWITCH's vanilla configuration tree, unchanged, and drives it with SIPp as the phones; the
// test itself only plays the phones' media (an RTP socket per leg that streams a known payload and
// records what comes back). Only what must move for a test run is overridden with -set: the
// addresses (local_ip_v4/v6 → loopback) and the SIP ports. Vanilla's global extension sleeps
// 10 s on every call while default_password is 1234; that stays in, so the scenarios run in
// parallel against one daemon.
//
// Vanilla's event socket listens on [::]:8021 with the password ClueCon: goswitch refuses that
// (logged, the daemon keeps running) and the suite needs no ESL, so -insecure is not used.

// vanillaPBX is one daemon on the vanilla tree.
type vanillaPBX struct {
	t        *testing.T
	cmd      *exec.Cmd
	out      *lockedBuffer
	internal netip.AddrPort // the internal profile (phones, digest auth)
	dir      string
}

func startVanillaPBX(t *testing.T, confDir string) *vanillaPBX {
	t.Helper()
	dir := t.TempDir()
	sipPort, extPort := vFreePort(t), vFreePort(t)
	args := []string{"-conf", confDir,
		"-log", filepath.Join(dir, "log"), "-db", filepath.Join(dir, "db"), "-run", filepath.Join(dir, "run"),
		"-storage", filepath.Join(dir, "storage"), "-recordings", filepath.Join(dir, "recordings"),
		"-set", "local_ip_v4=127.0.0.1", "-set", "local_ip_v6=::1",
		"-set", "internal_sip_port=" + strconv.Itoa(sipPort), "-set", "external_sip_port=" + strconv.Itoa(extPort),
		"-set", "internal_tls_port=" + strconv.Itoa(vFreePort(t)), "-set", "external_tls_port=" + strconv.Itoa(vFreePort(t)),
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GOSWITCH_TEST_DAEMON=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &vanillaPBX{t: t, cmd: cmd, out: out, dir: dir,
		internal: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sipPort))}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("daemon output (tail):\n%s", vTail(out.String(), 12000))
			var files []string
			_ = filepath.Walk(filepath.Join(dir, "storage"), func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					files = append(files, fmt.Sprintf("%s (%d bytes)", path, info.Size()))
				}
				return nil
			})
			t.Logf("storage: %v", files)
		}
	})
	waitFor(t, out, "goswitch ready")
	return p
}

// sipp is one SIPp instance.
type sipp struct {
	cmd  *exec.Cmd
	out  lockedBuffer
	dir  string
	done chan error
	fin  bool
}

// sipp starts SIPp against the internal profile with the scenario file of scripts/sipp.
func (p *vanillaPBX) sipp(t *testing.T, scen string, args ...string) *sipp {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		peer.Missing(t, "sipp not installed")
	}
	root, err := testconf.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := []string{p.internal.String(), "-i", "127.0.0.1", "-sf", filepath.Join(root, "scripts", "sipp", scen),
		"-m", "1", "-timeout", "120s", "-timeout_error", "-nostdin", "-trace_msg", "-trace_err",
		"-message_file", filepath.Join(dir, "msg.log"), "-error_file", filepath.Join(dir, "err.log")}
	if !contains(args, "-p") {
		full = append(full, "-p", strconv.Itoa(vFreePort(t)))
	}
	full = append(full, args...)
	s := &sipp{dir: dir, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, full...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if !s.fin {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("sipp %s output:\n%s\nmessages:\n%s", scen, vTail(s.out.String(), 1500), vTail(s.messages(), 5000))
		}
	})
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// wait waits for SIPp to end and fails the test unless it passed its scenario.
func (s *sipp) wait(t *testing.T, what string, d time.Duration) {
	t.Helper()
	select {
	case err := <-s.done:
		s.fin = true
		if err != nil {
			errs, _ := os.ReadFile(filepath.Join(s.dir, "err.log"))
			t.Fatalf("%s: sipp failed: %v\n%s\nerrors:\n%s\nmessages:\n%s", what, err, vTail(s.out.String(), 1500),
				vTail(string(errs), 3000), vTail(s.messages(), 6000))
		}
	case <-time.After(d):
		t.Fatalf("%s: sipp did not finish in %v", what, d)
	}
}

func (s *sipp) messages() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "msg.log"))
	return string(b)
}

// received returns the messages SIPp received, oldest first, from its message log.
func (s *sipp) received() []string {
	var out []string
	for _, chunk := range strings.Split(s.messages(), "\n-----------------------------------------------") {
		if i := strings.Index(chunk, "message received"); i >= 0 {
			if j := strings.Index(chunk[i:], "\n"); j >= 0 {
				out = append(out, strings.TrimSpace(chunk[i+j:]))
			}
		}
	}
	return out
}

var (
	sdpConn  = regexp.MustCompile(`(?m)^c=IN IP4 (\S+)`)
	sdpAudio = regexp.MustCompile(`(?m)^m=audio (\d+) `)
)

// remoteMedia waits until SIPp has received an SDP and returns its audio address (the last one).
func (s *sipp) remoteMedia(t *testing.T, d time.Duration) netip.AddrPort {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		msgs := s.received()
		for i := len(msgs) - 1; i >= 0; i-- {
			c, m := sdpConn.FindStringSubmatch(msgs[i]), sdpAudio.FindStringSubmatch(msgs[i])
			if c != nil && m != nil {
				if ap, err := netip.ParseAddrPort(c[1] + ":" + m[1]); err == nil {
					return ap
				}
			}
		}
		select {
		case <-s.done:
			s.fin = true
			t.Fatalf("sipp ended before any SDP arrived:\n%s", vTail(s.messages(), 4000))
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no SDP within %v:\n%s", d, vTail(s.messages(), 4000))
	return netip.AddrPort{}
}

// rtpLeg plays one phone's media: it streams 20 ms PCMU frames from src (or RFC 4733 events) to
// the PBX once it knows where, and records what arrives.
type rtpLeg struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	dst   netip.AddrPort
	src   func(frame int) []byte
	frame int // frames sent from src since it was set
	dtmf  []byte
	got   []rtpIn
	stop  chan struct{}
	wg    sync.WaitGroup
}

type rtpIn struct {
	at      time.Time
	pt      byte
	payload []byte
}

func newRTPLeg(t *testing.T, src func(int) []byte) *rtpLeg {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rtpLeg{conn: c, src: src, stop: make(chan struct{})}
	r.wg.Add(2)
	go r.recv()
	go r.send()
	t.Cleanup(func() {
		close(r.stop)
		c.Close()
		r.wg.Wait()
	})
	return r
}

func (r *rtpLeg) port() string { return strconv.Itoa(r.conn.LocalAddr().(*net.UDPAddr).Port) }

func (r *rtpLeg) recv() {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, err := r.conn.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		hl := 12 + 4*int(buf[0]&0x0f)
		if n < hl {
			continue
		}
		r.mu.Lock()
		r.got = append(r.got, rtpIn{at: time.Now(), pt: buf[1] & 0x7f, payload: append([]byte(nil), buf[hl:n]...)})
		r.mu.Unlock()
	}
}

func (r *rtpLeg) send() {
	defer r.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	ssrc := rand.Uint32()
	first := true
	pkt := func(pt byte, marker bool, stamp uint32, payload []byte) []byte {
		b := make([]byte, 12, 12+len(payload))
		b[0], b[1] = 0x80, pt
		if marker {
			b[1] |= 0x80
		}
		b[2], b[3] = byte(seq>>8), byte(seq)
		b[4], b[5], b[6], b[7] = byte(stamp>>24), byte(stamp>>16), byte(stamp>>8), byte(stamp)
		b[8], b[9], b[10], b[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		seq++
		return append(b, payload...)
	}
	var event []byte // RFC 4733 packets still to send for the digit under way
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		dst, src, frame := r.dst, r.src, r.frame
		if event == nil && len(r.dtmf) > 0 {
			code := dtmfCode(r.dtmf[0])
			r.dtmf = r.dtmf[1:]
			start := ts
			for i := 1; i <= 5; i++ { // 100 ms of tone, then three end packets
				event = append(event, packetSpec(code, false, i == 1, start, uint16(i*160))...)
			}
			for i := 0; i < 3; i++ {
				event = append(event, packetSpec(code, true, false, start, 5*160)...)
			}
		}
		r.mu.Unlock()
		if !dst.IsValid() {
			continue
		}
		if event != nil {
			// one spec per tick: [marker, end, code, dur hi, dur lo, ts(4)]
			spec := event[:9]
			event = event[9:]
			if len(event) == 0 {
				event = nil
			}
			stamp := uint32(spec[5])<<24 | uint32(spec[6])<<16 | uint32(spec[7])<<8 | uint32(spec[8])
			flags := byte(10) // volume
			if spec[1] == 1 {
				flags |= 0x80
			}
			_, _ = r.conn.WriteToUDPAddrPort(pkt(101, spec[0] == 1, stamp, []byte{spec[2], flags, spec[3], spec[4]}), dst)
			ts += 160
			continue
		}
		if src != nil {
			_, _ = r.conn.WriteToUDPAddrPort(pkt(0, first, ts, src(frame)), dst)
			first = false
		}
		r.mu.Lock()
		r.frame++
		r.mu.Unlock()
		ts += 160
	}
}

func packetSpec(code byte, end, marker bool, stamp uint32, dur uint16) []byte {
	b := []byte{0, 0, code, byte(dur >> 8), byte(dur), byte(stamp >> 24), byte(stamp >> 16), byte(stamp >> 8), byte(stamp)}
	if marker {
		b[0] = 1
	}
	if end {
		b[1] = 1
	}
	return b
}

func dtmfCode(d byte) byte {
	switch {
	case d >= '0' && d <= '9':
		return d - '0'
	case d == '*':
		return 10
	case d == '#':
		return 11
	}
	return 0
}

func (r *rtpLeg) setDst(a netip.AddrPort) { r.mu.Lock(); r.dst = a; r.mu.Unlock() }

// setSrc switches the audio: src is called with 0, 1, 2... from now on.
func (r *rtpLeg) setSrc(src func(int) []byte) { r.mu.Lock(); r.src, r.frame = src, 0; r.mu.Unlock() }

// sendDigits queues RFC 4733 digits (one every 160 ms).
func (r *rtpLeg) sendDigits(d string) { r.mu.Lock(); r.dtmf = append(r.dtmf, d...); r.mu.Unlock() }

// since returns the packets received at or after t.
func (r *rtpLeg) since(t time.Time) []rtpIn {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rtpIn
	for _, p := range r.got {
		if !p.at.Before(t) {
			out = append(out, p)
		}
	}
	return out
}

// waitPackets polls until cond holds for the packets received since from.
func (r *rtpLeg) waitPackets(d time.Duration, from time.Time, cond func([]rtpIn) bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond(r.since(from)) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond(r.since(from))
}

// constant returns a source of 160-byte frames all holding b.
func constant(b byte) func(int) []byte {
	f := bytes.Repeat([]byte{b}, 160)
	return func(int) []byte { return f }
}

// pcmuSilence is PCMU for 0.
const pcmuSilence = 0xff

var pcmu = func() media.Codec {
	c, ok := media.LookupCodec("PCMU", 8000, 1)
	if !ok {
		panic("no PCMU codec")
	}
	return c
}()

func decodePCMU(p []byte) []int16 {
	pcm := make([]int16, len(p)*2)
	n, err := pcmu.NewDecoder().Decode(pcm, p)
	if err != nil {
		return nil
	}
	return pcm[:n]
}

func encodePCMU(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	n, err := pcmu.NewEncoder().Encode(out, pcm)
	if err != nil {
		return nil
	}
	return out[:n]
}

func rms(p []byte) float64 {
	pcm := decodePCMU(p)
	if len(pcm) == 0 {
		return 0
	}
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// isConstant reports whether every byte of a payload is b.
func isConstant(p []byte, b byte) bool {
	if len(p) == 0 {
		return false
	}
	for _, x := range p {
		if x != b {
			return false
		}
	}
	return true
}

// dtmfTone is a PCMU source playing the digits as tones (120 ms each, 80 ms apart; -7 dBFS per
// frequency, audio.NewDTMFTone's level), 300 ms of silence, then then.
func dtmfTone(t *testing.T, digits string, then func(int) []byte) func(int) []byte {
	t.Helper()
	g, err := audio.NewDTMFTone(digits, 120*time.Millisecond, 80*time.Millisecond, 8000)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	buf := make([]int16, 160)
	for {
		n, err := media.ReadFull(g, buf)
		pcm = append(pcm, buf[:n]...)
		if err != nil || n < len(buf) {
			break
		}
	}
	pcm = append(pcm, make([]int16, 300*8)...)
	var frames [][]byte
	for i := 0; (i+1)*160 <= len(pcm); i++ {
		frames = append(frames, encodePCMU(pcm[i*160:(i+1)*160]))
	}
	return func(i int) []byte {
		if i < len(frames) {
			return frames[i]
		}
		return then(i - len(frames))
	}
}

// call places a call from user (digest auth with vanilla's password 1234) to dest with SIPp's
// uac_auth.xml (or another caller scenario), talking for talk after the answer, its media on leg.
func (p *vanillaPBX) call(t *testing.T, scen, user, dest string, talk time.Duration, leg *rtpLeg, extra ...string) *sipp {
	t.Helper()
	args := append([]string{"-s", user, "-au", user, "-ap", "1234", "-key", "dest", dest, "-key", "rtpport", leg.port(),
		"-key", "codec", "0", "-key", "codecname", "PCMU", "-d", strconv.Itoa(int(talk / time.Millisecond)), "-mi", "127.0.0.1"}, extra...)
	return p.sipp(t, scen, args...)
}

// phone registers user with a SIPp UAS (scenario uas) on its own port and returns the UAS.
func (p *vanillaPBX) phone(t *testing.T, user, uas string, leg *rtpLeg, port int) *sipp {
	t.Helper()
	args := []string{"-s", user, "-p", strconv.Itoa(port), "-d", "300"}
	if leg != nil {
		args = append(args, "-key", "rtpport", leg.port(), "-key", "codec", "0", "-key", "codecname", "PCMU", "-mi", "127.0.0.1")
	}
	u := p.sipp(t, uas, args...)
	reg := p.sipp(t, "register_only.xml", "-s", user, "-au", user, "-ap", "1234", "-key", "contact_port", strconv.Itoa(port))
	reg.wait(t, "register "+user, 20*time.Second)
	return u
}

func vFreePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 500; i++ {
		port := 10000 + rand.Intn(6000) // below the RTP range (16384-32768) and the ephemeral ports
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

func vTail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func countConstant(ps []rtpIn, b byte) int {
	n := 0
	for _, p := range ps {
		if p.pt == 0 && isConstant(p.payload, b) {
			n++
		}
	}
	return n
}

// TestVanillaInterop: goswitch on FreeSWITCH's vanilla tree, phones played by SIPp.
func TestVanillaInterop(t *testing.T) {
	conf := testconf.Vanilla(t)
	if _, err := exec.LookPath("sipp"); err != nil {
		peer.Missing(t, "sipp not installed")
	}
	start := time.Now()
	pbx := startVanillaPBX(t, conf)
	t.Cleanup(func() { t.Logf("vanilla suite: %v", time.Since(start).Round(100*time.Millisecond)) })

	t.Run("register", func(t *testing.T) {
		reg := pbx.sipp(t, "register_only.xml", "-s", "1019", "-au", "1019", "-ap", "1234", "-key", "contact_port", strconv.Itoa(vFreePort(t)))
		reg.wait(t, "register 1019", 20*time.Second)
		bad := pbx.sipp(t, "register_refused.xml", "-s", "1018", "-au", "1018", "-ap", "wrong")
		bad.wait(t, "register 1018 with a wrong password", 20*time.Second)
	})
	// The scenarios run at once (t.Run from goroutines: -test.parallel, GOMAXPROCS by default, would
	// queue them behind each other, and each waits out vanilla's 10 s sleep at least once).
	scenarios := []struct {
		name string
		fn   func(*testing.T, *vanillaPBX)
	}{
		{"echo_9196", vanillaEcho},
		{"baresip_echo_9196", vanillaBaresipEcho},
		{"ivr_5000_rfc2833", func(t *testing.T, p *vanillaPBX) { vanillaIVR(t, p, "1010", false, false) }},
		{"ivr_5000_inband_ignored", func(t *testing.T, p *vanillaPBX) { vanillaIVR(t, p, "1011", true, false) }},
		{"ivr_5000_inband_start_dtmf", func(t *testing.T, _ *vanillaPBX) {
			// Not the vanilla tree: vanilla plus the auto-detect block its default.xml ships commented
			// out (no telephone-event in the offer → start_dtmf), in a second daemon.
			pbx2 := startVanillaPBX(t, vanillaStartDTMFOverlay(t, conf))
			vanillaIVR(t, pbx2, "1017", true, true)
		}},
		{"conference_3000", vanillaConference},
		{"hold_music", vanillaHold},
		{"park_5900_fifo", vanillaPark},
		{"voicemail_mwi_callerid", vanillaVoicemailAndCallerID},
	}
	var wg sync.WaitGroup
	only := os.Getenv("VANILLA_ONLY") // while debugging: run one scenario
	for _, sc := range scenarios {
		if only != "" && only != sc.name {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(sc.name, func(t *testing.T) { sc.fn(t, pbx) })
		}()
	}
	wg.Wait()
}

// vanillaStartDTMFOverlay builds, in a temporary directory, the vanilla tree with one change: the
// block of dialplan/default.xml that FreeSWITCH ships commented out ("auto detect if
// telephone-event is missing and activate inband detection") switched on. Everything else is a
// symbolic link to the vanilla files.
func vanillaStartDTMFOverlay(t *testing.T, conf string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "conf")
	link := func(from, to string) {
		entries, err := os.ReadDir(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if from == conf && e.Name() == "dialplan" || from == filepath.Join(conf, "dialplan") && e.Name() == "default.xml" {
				continue
			}
			if err := os.Symlink(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	link(conf, dir)
	link(filepath.Join(conf, "dialplan"), filepath.Join(dir, "dialplan"))
	b, err := os.ReadFile(filepath.Join(conf, "dialplan", "default.xml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)<!--\s*(<condition field="\$\{switch_r_sdp\}" expression="a=rtpmap:\(\\d\+\)\\stelephone-event/8000".*?<anti-action application="start_dtmf"/>\s*</condition>)\s*-->`)
	if !re.Match(b) {
		t.Fatal("vanilla default.xml: the commented start_dtmf block is not where it was")
	}
	b = re.ReplaceAll(b, []byte("$1"))
	if err := os.WriteFile(filepath.Join(dir, "dialplan", "default.xml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// vanillaBaresipEcho: a real softphone (baresip, ausine 440 Hz) registers as 1009 and calls 9196:
// the registration is accepted, the call is established after vanilla's 10 s sleep (no early
// media that it would start its audio on) and audio flows both ways (baresip's own bit rates).
func vanillaBaresipEcho(t *testing.T, pbx *vanillaPBX) {
	bin, err := exec.LookPath("baresip")
	if err != nil {
		peer.Missing(t, "baresip not installed")
	}
	if _, err := os.Stat("/usr/lib/baresip/modules/g711.so"); err != nil {
		peer.Missing(t, "baresip modules not found")
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
sip_trans_def udp
audio_player aubridge,nil
audio_source ausine,440
audio_alert aubridge,nil
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
`, vFreePort(t))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	acct := fmt.Sprintf("<sip:1009@%s>;auth_pass=1234;regint=60\n", pbx.internal)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", dir, "-t", "16", "-e", "/dial sip:9196@"+pbx.internal.String())
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Error("baresip did not quit")
	}
	log := out.String()
	for _, want := range []string{"200 OK () [1 binding]", "Call established: sip:9196@", "audio=64000/64000"} {
		if !strings.Contains(log, want) {
			t.Errorf("baresip never printed %q", want)
		}
	}
	if t.Failed() {
		t.Logf("baresip:\n%s", vTail(log, 3000))
	}
}

// vanillaEcho: 1000 calls 9196 (answer, echo): no early media during the sleep before the
// answer, then what it sends comes back unchanged.
func vanillaEcho(t *testing.T, pbx *vanillaPBX) {
	leg := newRTPLeg(t, constant(0x33))
	// uac_no_early.xml: the 10 s sleep before the answer sends nothing (a 183 fails the call)
	a := pbx.call(t, "uac_no_early.xml", "1000", "9196", 3*time.Second, leg)
	leg.setDst(a.remoteMedia(t, 25*time.Second))
	from := time.Now()
	a.wait(t, "1000 → 9196", 40*time.Second)
	got := leg.since(from)
	if n := countConstant(got, 0x33); n < 50 {
		t.Errorf("9196: %d of %d packets came back as sent (want ≥ 50 in 3 s)", n, len(got))
	}
}

// vanillaIVR: 5000 is vanilla's demo IVR (answer, sleep 2 s, ivr demo_ivr); its digit 2 is
// "transfer 9196 XML default", the echo, reached after the global extension's 10 s sleep again.
// RFC 4733: the caller's media comes back unchanged once the transfer is done. In-band: vanilla
// does not run start_dtmf (default.xml has the auto-detect block commented out), so FreeSWITCH
// does not hear a tone 2 and neither does goswitch: the caller stays in the menu and nothing it
// sends comes back.
func vanillaIVR(t *testing.T, pbx *vanillaPBX, user string, inband, detect bool) {
	leg := newRTPLeg(t, constant(pcmuSilence))
	scen := "uac_auth.xml"
	if inband {
		scen = "uac_inband.xml" // no telephone-event offered: tones are all the caller has
	}
	a := pbx.call(t, scen, user, "5000", 24*time.Second, leg)
	leg.setDst(a.remoteMedia(t, 25*time.Second))
	answered := time.Now()
	// the greeting: wait for audio with energy (after the 2 s sleep), then press 2 over it
	if !leg.waitPackets(10*time.Second, answered, hasEnergy) {
		t.Fatal("5000: no greeting audio within 10 s of the answer")
	}
	pressed := time.Now()
	echoed := constant(0x33)
	if inband {
		leg.setSrc(dtmfTone(t, "2", echoed)) // a tone 2, then the pattern
	} else {
		leg.sendDigits("2")
		leg.setSrc(echoed)
	}
	back := leg.waitPackets(20*time.Second, pressed, func(ps []rtpIn) bool { return countConstant(ps, 0x33) >= 25 })
	a.wait(t, user+" → 5000", 40*time.Second)
	n := countConstant(leg.since(pressed), 0x33)
	switch {
	case !inband && !back:
		t.Errorf("5000, RFC 4733 digit 2: not transferred to the echo (%d packets came back unchanged)", n)
	case inband && detect && !back:
		t.Errorf("5000, in-band tone 2 with start_dtmf: not transferred to the echo (%d packets came back unchanged)", n)
	case inband && !detect && n > 0:
		t.Errorf("5000, in-band tone 2: vanilla runs no start_dtmf, yet %d packets came back unchanged (the tone was taken as a digit)", n)
	}
	if back {
		t.Logf("5000 digit 2 → 9196 echo after %v", firstConstant(leg.since(pressed), 0x33).Sub(pressed).Round(100*time.Millisecond))
	}
}

func firstConstant(ps []rtpIn, b byte) time.Time {
	for _, p := range ps {
		if p.pt == 0 && isConstant(p.payload, b) {
			return p.at
		}
	}
	return time.Time{}
}

// vanillaConference: 1012, 1013 and 1014 call 3000 (nb_conferences: conference 3000-<domain>@default);
// each sends a steady level and must hear the sum of the other two.
func vanillaConference(t *testing.T, pbx *vanillaPBX) {
	levels := []int16{1000, 2000, 4000}
	users := []string{"1012", "1013", "1014"}
	var legs []*rtpLeg
	var calls []*sipp
	for i, u := range users {
		b := encodePCMU([]int16{levels[i]})[0]
		leg := newRTPLeg(t, constant(b))
		legs = append(legs, leg)
		calls = append(calls, pbx.call(t, "uac_no_early.xml", u, "3000", 8*time.Second, leg))
	}
	for i, c := range calls {
		legs[i].setDst(c.remoteMedia(t, 25*time.Second))
	}
	from := time.Now()
	for i, c := range calls {
		c.wait(t, users[i]+" → 3000", 40*time.Second)
	}
	total := int(levels[0]) + int(levels[1]) + int(levels[2])
	for i, leg := range legs {
		want := float64(total - int(levels[i]))
		heard := 0
		for _, p := range leg.since(from) {
			if p.pt != 0 || len(p.payload) == 0 || !isConstant(p.payload, p.payload[0]) {
				continue
			}
			v := float64(decodePCMU(p.payload[:1])[0])
			if math.Abs(v-want) < want*0.15 {
				heard++
			}
		}
		t.Logf("%s heard the other two (level %.0f) in %d packets", users[i], want, heard)
		if heard < 50 {
			t.Errorf("%s in 3000 heard the other two (level %.0f) in %d packets, want ≥ 50", users[i], want, heard)
		}
	}
}

// vanillaHold: 1015 calls 1016, both SIPp; 1015 holds (a=sendonly) for 2 s: 1016 hears vanilla's
// hold_music (local_stream://moh) with energy, not 1015's media, and 1015's media again after
// the resume.
func vanillaHold(t *testing.T, pbx *vanillaPBX) {
	held := newRTPLeg(t, constant(pcmuSilence))
	b := pbx.phone(t, "1016", "uas_vanilla.xml", held, vFreePort(t))
	holder := newRTPLeg(t, constant(0x33))
	a := pbx.call(t, "uac_hold_music.xml", "1015", "1016", 2*time.Second, holder)
	held.setDst(b.remoteMedia(t, 25*time.Second))
	holder.setDst(a.remoteMedia(t, 25*time.Second))
	from := time.Now()
	a.wait(t, "1015 holds 1016", 40*time.Second)
	b.wait(t, "1016", 10*time.Second)
	got := held.since(from)
	var relayed, music int
	phase := 0 // 0 before hold, 1 music, 2 after resume
	var afterResume int
	for _, p := range got {
		mine := p.pt == 0 && isConstant(p.payload, 0x33)
		switch {
		case mine && phase == 0:
			relayed++
		case !mine && p.pt == 0 && rms(p.payload) > 300 && phase <= 1 && relayed > 0:
			phase = 1
			music++
		case mine && phase == 1:
			phase = 2
			afterResume++
		case mine && phase == 2:
			afterResume++
		}
	}
	t.Logf("1016 got %d relayed before the hold, %d music packets with energy, %d relayed after", relayed, music, afterResume)
	if relayed < 20 || music < 60 || afterResume < 20 {
		t.Errorf("hold: want ≥ 20 relayed, ≥ 60 music (2 s hold), ≥ 20 relayed after the resume")
	}
}

// vanillaVoicemailAndCallerID: 1001 is busy: vanilla's Local_Extension answers and bridges to
// voicemail, 1000 leaves a message, a SIPp MWI subscriber of 1001 gets Messages-Waiting: yes, and
// 1001 logs in on *98 with its mailbox and vm-password (1001) and hears the message played back.
// Meanwhile 1001 answers again and a call from 1000 shows 1000's caller ID.
func vanillaVoicemailAndCallerID(t *testing.T, pbx *vanillaPBX) {
	port := vFreePort(t) // 1001's contact: the same for both phones, so the registration is replaced
	mwi := pbx.sipp(t, "subscribe_mwi.xml", "-s", "1001", "-au", "1001", "-ap", "1234")
	busy := pbx.phone(t, "1001", "uas_vanilla_busy.xml", nil, port)
	msg := newRTPLeg(t, constant(pcmuSilence))
	vm := pbx.call(t, "uac_auth.xml", "1000", "1001", 20*time.Second, msg)
	msg.setDst(vm.remoteMedia(t, 25*time.Second))
	busy.wait(t, "1001 busy", 25*time.Second)
	// the greeting ("the person at extension 1001 is not available"): skip it with vanilla's
	// skip-greet-key (#), then the message: a steady level, recognisable when played back
	if !msg.waitPackets(10*time.Second, time.Now(), hasEnergy) {
		t.Fatal("voicemail: no greeting within 10 s of the answer")
	}
	msg.sendDigits("#")
	msg.setSrc(constant(0x33))
	vm.wait(t, "1000 leaves a message for 1001", 40*time.Second)
	mwi.wait(t, "MWI subscriber of 1001 (Messages-Waiting: yes)", 20*time.Second)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // t.Run from a goroutine: the caller ID call runs alongside the *98 call
		defer wg.Done()
		t.Run("callerid_1000_to_1001", func(t *testing.T) { vanillaCallerID(t, pbx, port) })
	}()
	defer wg.Wait()

	// *98: vanilla runs "voicemail check default ${domain_name}" without an id: FreeSWITCH asks for
	// the mailbox (vm-enter_id), then its password (vm-enter_pass), each ended by #; 1 plays the
	// new messages.
	listener := newRTPLeg(t, constant(pcmuSilence))
	chk := pbx.call(t, "uac_no_early.xml", "1001", "*98", 20*time.Second, listener)
	listener.setDst(chk.remoteMedia(t, 25*time.Second))
	if !listener.waitPackets(10*time.Second, time.Now(), hasEnergy) {
		t.Fatal("*98: no prompt within 10 s of the answer")
	}
	listener.sendDigits("1001#")
	time.Sleep(1500 * time.Millisecond)
	listener.sendDigits("1001#")
	loggedIn := time.Now()
	time.Sleep(3 * time.Second) // "you have 1 new message", then the menu
	listener.sendDigits("1")
	played := listener.waitPackets(15*time.Second, loggedIn, func(ps []rtpIn) bool { return countConstant(ps, 0x33) >= 50 })
	chk.wait(t, "1001 checks voicemail on *98", 40*time.Second)
	if !played {
		t.Errorf("*98: after the mailbox, the password and 1, the message was not played (%d packets of it)", countConstant(listener.since(loggedIn), 0x33))
	}
}

func hasEnergy(ps []rtpIn) bool {
	for _, p := range ps {
		if p.pt == 0 && rms(p.payload) > 300 {
			return true
		}
	}
	return false
}

// vanillaCallerID: 1000 calls 1001; the INVITE 1001 gets presents 1000 (vanilla's
// effective_caller_id_name "Extension 1000", number 1000), not 1001's own caller ID.
func vanillaCallerID(t *testing.T, pbx *vanillaPBX, port int) {
	callee := newRTPLeg(t, constant(pcmuSilence))
	b := pbx.phone(t, "1001", "uas_vanilla.xml", callee, port)
	caller := newRTPLeg(t, constant(pcmuSilence))
	a := pbx.call(t, "uac_auth.xml", "1000", "1001", time.Second, caller)
	callee.setDst(b.remoteMedia(t, 25*time.Second))
	a.wait(t, "1000 → 1001", 40*time.Second)
	b.wait(t, "1001", 10*time.Second)
	var from string
	for _, m := range b.received() {
		if strings.HasPrefix(m, "INVITE ") {
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(strings.ToLower(line), "from:") {
					from = strings.TrimSpace(line[5:])
				}
			}
		}
	}
	if !regexp.MustCompile(`^"Extension 1000" <sip:1000@127\.0\.0\.1[>:;]`).MatchString(from) {
		t.Errorf("1001 sees From: %s, want 1000's caller ID \"Extension 1000\" <sip:1000@127.0.0.1>", from)
	}
}
