package core_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/xmlconf"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration" description="Various Configuration"/>
  <section name="dialplan" description="Regex/XML Dialplan">
    <context name="default">
      <extension name="echo">
        <condition field="destination_number" expression="^9196$">
          <action application="answer"/>
          <action application="echo"/>
        </condition>
      </extension>
      <extension name="busy">
        <condition field="destination_number" expression="^486$">
          <action application="hangup" data="USER_BUSY"/>
        </condition>
      </extension>
      <extension name="chain">
        <condition field="destination_number" expression="^(2\d+)$">
          <action application="set" data="hangup_after_bridge=true"/>
          <action application="bridge" data="loopback/9196"/>
        </condition>
      </extension>
      <extension name="fail_continue">
        <condition field="destination_number" expression="^3000$">
          <action application="bridge" data="error/user_busy"/>
          <action application="set" data="after=reached"/>
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
      <extension name="parked">
        <condition field="destination_number" expression="^5900$">
          <action application="answer"/>
          <action application="park"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
`

func newHost(t testing.TB) *core.Host { return testhost.New(t, testConf, nil) }

// tone fills a frame with a 440 Hz sine.
func tone(f *media.Frame, n int) {
	for i := range f.PCM {
		f.PCM[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n*len(f.PCM)+i)/8000))
	}
}

func energy(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// heardBack writes a tone into st and reports whether it comes back (echo).
func heardBack(t *testing.T, st media.Stream) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		f := media.Frame{PCM: make([]int16, 160), Rate: 8000}
		for i := 0; ctx.Err() == nil; i++ {
			tone(&f, i)
			if st.WriteFrame(ctx, &f) != nil {
				return
			}
		}
	}()
	var f media.Frame
	for i := 0; i < 250; i++ { // generous: a loaded CI machine may deliver late
		if err := st.ReadFrame(ctx, &f); err != nil {
			return false
		}
		if energy(f.PCM) > 2000 {
			return true
		}
	}
	return false
}

func TestOriginateLoopbackEcho(t *testing.T) {
	h := newHost(t)
	b, err := h.Originate(context.Background(), "loopback/9196", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Answered() {
		t.Fatal("originate returned an unanswered leg")
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.State() != core.StateConsumeMedia && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if b.State() != core.StateConsumeMedia {
		t.Errorf("originated leg in %s, want CS_CONSUME_MEDIA", b.State())
	}
	if !heardBack(t, b.Port().Stream()) {
		t.Fatal("echo extension did not send the tone back")
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
}

func TestOriginateFailures(t *testing.T) {
	h := newHost(t)
	cases := []struct {
		dial string
		want core.Cause
	}{
		{"error/user_busy", core.CauseUserBusy},
		{"loopback/486", core.CauseUserBusy},
		{"loopback/nowhere", core.CauseNoRouteDestination},
		{"nosuch/1000", core.CauseChanNotImplemented},
		{"error/user_busy|error/no_answer", core.CauseNoAnswer},
		{"error/user_busy,error/CALL_REJECTED", core.CauseUserBusy},
	}
	for _, tc := range cases {
		_, err := h.Originate(context.Background(), tc.dial, core.OriginateOptions{})
		var ce *core.CallError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v is not a CallError", tc.dial, err)
			continue
		}
		if ce.Cause != tc.want {
			t.Errorf("%s: cause %s, want %s", tc.dial, ce.Cause, tc.want)
		}
	}
}

func TestOriginateTimeout(t *testing.T) {
	h := newHost(t)
	start := time.Now()
	// 5900 answers, so use loopback_no_pre_answer and a leg that never answers: park unanswered.
	_, err := h.Originate(context.Background(), "{originate_timeout=1}loopback/9999", core.OriginateOptions{})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseNoRouteDestination {
		t.Fatalf("want NO_ROUTE_DESTINATION for an unknown extension, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("failure took too long")
	}
}

// TestBridgeChain dials 2000, whose extension bridges to the echo extension: media must cross two
// loopback pairs and the bridge.
func TestBridgeChain(t *testing.T) {
	h := newHost(t)
	b, err := h.Originate(context.Background(), "loopback/2000", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !heardBack(t, b.Port().Stream()) {
		t.Fatal("no echo through the bridge")
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
	deadline := time.Now().Add(3 * time.Second)
	for h.SessionCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.SessionCount(); n != 0 {
		t.Fatalf("%d channels still up after the caller hung up", n)
	}
}

// TestBridgeFailureContinues checks FreeSWITCH's default: a failed bridge with a cause other than
// NO_ANSWER hangs up the caller unless continue_on_fail says otherwise. 3000 bridges to USER_BUSY
// without continue_on_fail, so the A-leg must hang up with USER_BUSY and never reach "after".
func TestBridgeFailureHangsUp(t *testing.T) {
	h := newHost(t)
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.ChannelHangupComplete }, 64)
	defer sub.Close()
	_, err := h.Originate(context.Background(), "loopback/3000", core.OriginateOptions{})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseUserBusy {
		t.Fatalf("want USER_BUSY, got %v", err)
	}
	timeout := time.After(3 * time.Second)
	for {
		select {
		case e := <-sub.C():
			if e.Get("Caller-Destination-Number") == "3000" && e.Get("Call-Direction") == "inbound" {
				if got := e.Get("variable_after"); got != "" {
					t.Errorf("dialplan continued after a failed bridge: after=%q", got)
				}
				if got := e.Get("Hangup-Cause"); got != "USER_BUSY" {
					t.Errorf("A-leg hangup cause %s, want USER_BUSY", got)
				}
				return
			}
		case <-timeout:
			t.Fatal("no CHANNEL_HANGUP_COMPLETE for the 3000 leg")
		}
	}
}

func TestEventOrder(t *testing.T) {
	h := newHost(t)
	sub := h.Bus.Subscribe(nil, 1024)
	defer sub.Close()
	b, err := h.Originate(context.Background(), "loopback/9196", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inbound := b.Var("other_loopback_leg_uuid")
	if !heardBack(t, b.Port().Stream()) { // echo is running: answer has completed
		t.Fatal("no echo")
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
	var names []string
	timeout := time.After(3 * time.Second)
	for {
		select {
		case e := <-sub.C():
			if e.UniqueID() != inbound {
				continue
			}
			n := e.Name
			if n == event.ChannelState {
				n += "(" + e.Get("Channel-State") + ")"
			}
			names = append(names, n)
			if e.Name == event.ChannelDestroy {
				want := []string{
					"CHANNEL_CREATE",
					"CHANNEL_STATE(CS_ROUTING)", "CHANNEL_STATE(CS_EXECUTE)",
					"CHANNEL_EXECUTE", "CHANNEL_ANSWER", "CHANNEL_CALLSTATE", "CHANNEL_EXECUTE_COMPLETE",
					"CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
					"CHANNEL_CALLSTATE", "CHANNEL_HANGUP", "CHANNEL_STATE(CS_HANGUP)",
					"CHANNEL_STATE(CS_REPORTING)", "CHANNEL_HANGUP_COMPLETE",
					"CHANNEL_STATE(CS_DESTROY)", "CHANNEL_DESTROY",
				}
				if len(names) < 2 || names[0] != "CHANNEL_STATE(CS_INIT)" {
					t.Fatalf("first events %v", names)
				}
				got := names[1:]
				if len(got) != len(want) {
					t.Fatalf("events\n got %v\nwant %v", got, want)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("event %d: got %s want %s\n all: %v", i, got[i], want[i], got)
					}
				}
				return
			}
		case <-timeout:
			t.Fatalf("no CHANNEL_DESTROY; saw %v", names)
		}
	}
}

func TestHangupIdempotentConcurrent(t *testing.T) {
	h := newHost(t)
	b, err := h.Originate(context.Background(), "loopback/5900", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 0 {
				b.Hangup(core.CauseUserBusy)
			} else {
				b.Hangup(core.CauseNormalClearing)
			}
		}(i)
	}
	wg.Wait()
	<-b.Done()
	if c := b.HangupCause(); c != core.CauseUserBusy && c != core.CauseNormalClearing {
		t.Fatalf("cause %s", c)
	}
}

func TestUUIDBridgeParkedChannels(t *testing.T) {
	h := newHost(t)
	a, err := h.Originate(context.Background(), "loopback/5900", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Originate(context.Background(), "loopback/9196", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.UUIDBridge(a, b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for a.Peer() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Peer() != b {
		t.Fatal("uuid_bridge did not bridge the channels")
	}
	b.Hangup(core.CauseNormalClearing)
	select {
	case <-a.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("A-leg stayed up after its uuid_bridge peer hung up")
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freeswitch.xml")
	if err := os.WriteFile(path, []byte(testConf), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{Log: testhost.Logger(), Load: func() (*xmlconf.Snapshot, error) {
		return xmlconf.Load(xmlconf.Options{Dir: dir, Globals: map[string]string{}})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(context.Background(), core.CauseSystemShutdown)
	old := h.Config()
	if err := os.WriteFile(path, []byte("<document>\n<section name=\"dialplan\">\n<context>\n</section>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = h.Reload()
	if err == nil {
		t.Fatal("reload of broken XML succeeded")
	}
	if h.Config() != old {
		t.Fatal("broken reload replaced the live configuration")
	}
	if want := "freeswitch.xml:"; !contains(err.Error(), want) {
		t.Errorf("error %q does not name file:line", err)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestCallKeepsItsSnapshot: a reload does not change the dialplan of a call in progress; new calls
// see the new configuration.
func TestCallKeepsItsSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "freeswitch.xml")
	if err := os.WriteFile(path, []byte(testConf), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{Log: testhost.Logger(), Load: func() (*xmlconf.Snapshot, error) {
		return xmlconf.Load(xmlconf.Options{Dir: dir, Globals: map[string]string{}})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(context.Background(), core.CauseSystemShutdown)
	b, err := h.Originate(context.Background(), "loopback/5900", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := h.Session(b.Var("other_loopback_leg_uuid"))
	// The new configuration has no echo extension.
	if err := os.WriteFile(path, []byte(strings.Replace(testConf, "^9196$", "^9197$", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	in.Transfer("9196", "", "")
	if !heardBack(t, b.Port().Stream()) {
		t.Fatal("the call in progress lost its dialplan on reload")
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
	_, err = h.Originate(context.Background(), "loopback/9196", core.OriginateOptions{})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseNoRouteDestination {
		t.Fatalf("a new call after reload should not find 9196: %v", err)
	}
}

func TestExecuteOnAnswerAndTimestamps(t *testing.T) {
	h := newHost(t)
	var mu sync.Mutex
	got := map[string]string{}
	h.OnReporting(func(s *core.Session) {
		if s.Direction() != core.Inbound {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, n := range []string{"hook_ran", "start_stamp", "answer_stamp", "end_stamp", "duration", "billsec", "last_app", "hangup_cause", "caller_id", "read_codec"} {
			got[n] = s.Var(n)
		}
	})
	b, err := h.Originate(context.Background(), "{execute_on_answer=set hook_ran=yes}loopback/9196", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	heardBack(t, b.Port().Stream())
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
	deadline := time.Now().Add(2 * time.Second)
	for h.SessionCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["hook_ran"] != "yes" {
		t.Errorf("execute_on_answer did not run: %v", got)
	}
	for _, n := range []string{"start_stamp", "answer_stamp", "end_stamp"} {
		if _, err := time.ParseInLocation("2006-01-02 15:04:05", got[n], time.Local); err != nil {
			t.Errorf("%s = %q: %v", n, got[n], err)
		}
	}
	if got["duration"] != "0" && got["duration"] != "1" || got["billsec"] == "" {
		t.Errorf("duration %q billsec %q", got["duration"], got["billsec"])
	}
	if got["last_app"] != "echo" || got["hangup_cause"] != "NORMAL_CLEARING" || got["caller_id"] != "0000000000" || got["read_codec"] != "L16" {
		t.Errorf("CDR vars: %v", got)
	}
}

// TestDTMFCrossesBridgeOnce: a digit sent into a bridged call reaches the far channel exactly once.
func TestDTMFCrossesBridgeOnce(t *testing.T) {
	h := newHost(t)
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.DTMF }, 64)
	defer sub.Close()
	b, err := h.Originate(context.Background(), "loopback/2000", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	if !heardBack(t, b.Port().Stream()) {
		t.Fatal("no echo through the bridge")
	}
	if err := b.Leg().SendDTMF(media.DTMF{Digit: '5', Duration: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// The digit enters at 2000-b, crosses the bridge to 9196-a and arrives at 9196-b (the echo).
	count := map[string]int{}
	timeout := time.After(2 * time.Second)
	for {
		select {
		case e := <-sub.C():
			count[e.Get("Channel-Name")]++
		case <-timeout:
			if count["loopback/9196-b"] != 1 {
				t.Fatalf("digit arrivals per channel: %v", count)
			}
			return
		}
	}
}

// BenchmarkCallLifecycle measures the core's cost of one short call: originate a loopback pair
// whose dialplan side hangs up at once (two channels through every state). "events" adds a
// subscriber taking every event, as an event-socket client with "event plain ALL" does.
func BenchmarkCallLifecycle(b *testing.B) {
	for _, withSub := range []bool{false, true} {
		name := "quiet"
		if withSub {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			h := newHost(b)
			h.SetSPS(1 << 30) // the default 30 sessions/s would throttle the benchmark, not measure it
			h.SetMaxSessions(1 << 30)
			if withSub {
				sub := h.Bus.Subscribe(nil, 1<<16)
				stop := make(chan struct{})
				drained := make(chan struct{})
				go func() {
					defer close(drained)
					for {
						select {
						case <-sub.C():
						case <-stop:
							return
						}
					}
				}()
				defer func() { sub.Close(); close(stop); <-drained }()
			}
			b.ReportAllocs()
			for b.Loop() {
				_, err := h.Originate(context.Background(), "loopback/486", core.OriginateOptions{})
				var ce *core.CallError
				if !errors.As(err, &ce) || ce.Cause != core.CauseUserBusy {
					b.Fatalf("want USER_BUSY, got %v", err)
				}
			}
			b.StopTimer()
			deadline := time.Now().Add(5 * time.Second)
			for h.SessionCount() > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		})
	}
}
