package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/internal/loadconf"
)

// TestBridgedCalls starts goswitch (built from this tree) on loopback and runs 20 bridged
// calls with RTP both ways through it: every call answered, ≥ 97 % of the packets through in
// each direction, and no channel left once the calls hung up.
func TestBridgedCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs goswitch")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	root, _ := filepath.Abs("../..")
	bin, err := loadconf.Build(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	var pbx *loadconf.PBX
	for attempt := 0; pbx == nil; attempt++ {
		c := loadconf.Config{AuthCall: true, RTPStart: 42000}
		if err := c.Ports(); err != nil {
			t.Fatal(err)
		}
		pbx, err = loadconf.Start(bin, filepath.Join(dir, "pbx"), c, 20*time.Second, "-metrics", "off")
		if err != nil && attempt == 2 {
			t.Fatal(err)
		}
	}
	t.Cleanup(pbx.Stop)
	o := options{pbx: pbx.SIP(), listen: pbx.Conf.UAS, n: 20, rate: 50, sockets: 4, senders: 2, hold: 3 * time.Second,
		grace: 100 * time.Millisecond, user: "1000", pass: "load1234", pid: pbx.Cmd.Process.Pid,
		esl: pbx.ESL(), eslPass: "loadtest"}
	r, err := run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r)
	if r.Answered != 20 || r.Failed != 0 {
		t.Errorf("answered %d failed %d %v, want 20 and 0", r.Answered, r.Failed, r.Fails)
	}
	if r.RTPToUASPct < 97 || r.RTPToUACPct < 97 || r.CallsUnder97 > 0 {
		t.Errorf("RTP end to end %.1f%% / %.1f%%, %d calls under 97%%", r.RTPToUASPct, r.RTPToUACPct, r.CallsUnder97)
	}
	if r.ChannelsLeft != 0 {
		b, _ := os.ReadFile(filepath.Join(dir, "pbx", "log", "stdout"))
		t.Errorf("%d channels left after the hangups\n%s", r.ChannelsLeft, b)
	}
}
