package sip

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/internal/peer"
)

func baresipPath(t *testing.T) string {
	p, err := exec.LookPath("baresip")
	if err != nil {
		peer.Missing(t, "baresip not installed")
	}
	if _, err := os.Stat("/usr/lib/baresip/modules/srtp.so"); err != nil {
		peer.Missing(t, "baresip modules not found")
	}
	return p
}

// TestBaresipRegisterAndSRTPEcho: a real softphone registers as 1000 (digest auth) and calls
// 9196 with SDES-SRTP (mediaenc=srtp); goswitch answers RTP/SAVP and the echo carries its audio.
func TestBaresipRegisterAndSRTPEcho(t *testing.T) {
	bin := baresipPath(t)
	env := newEnv(t, envOpt{})
	dir := t.TempDir()
	addr := env.addr(t, "internal")
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
module srtp.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
`, freeUDPPort(t))
	os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "accounts"), []byte(fmt.Sprintf("<sip:1000@%s>;auth_pass=1234;regint=60;mediaenc=srtp\n", addr)), 0o644)
	cmd := exec.Command(bin, "-f", dir, "-t", "9", "-e", fmt.Sprintf("/dial sip:9196@%s", addr))
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("baresip:\n%s", tail(out.String(), 4000))
		}
	}()
	waitFor(t, "baresip registration", 5*time.Second, func() bool {
		return len(env.ep.Contacts("internal", "1000", "127.0.0.1")) == 1
	})
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last media state: %s", last)
		}
	}()
	waitFor(t, "SRTP echo call with media", 8*time.Second, func() bool {
		s := answeredInbound(env)
		if s == nil || s.Var("rtp_has_crypto") == "" {
			return false
		}
		p, ok := s.Port().(*rtp.RTPPort)
		if !ok {
			return false
		}
		st := p.Stats()
		last = fmt.Sprintf("%+v crypto=%s", st, s.Var("rtp_has_crypto"))
		return st.PacketsIn > 25 && st.PacketsOut > 25 && st.DecryptErrors < 3
	})
	if s := answeredInbound(env); s != nil && !strings.Contains(s.Var("sip_user_agent"), "baresip") {
		t.Errorf("user agent %q", s.Var("sip_user_agent"))
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("baresip did not quit")
	}
	waitFor(t, "hangup", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
}
