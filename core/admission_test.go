package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/internal/testhost"
)

const admissionConf = `<configuration name="switch.conf"><settings>
  <param name="max-sessions" value="4"/>
  <param name="sessions-per-second" value="1000"/>
  <param name="max-scheduling-lag-ms" value="50"/>
  <param name="overload-retry-after" value="2-3"/>
</settings></configuration>`

func admissionHost(t *testing.T) *core.Host {
	return testhost.New(t, testhost.Document(
		`<section name="configuration">`+admissionConf+`</section>`,
		testhost.Dialplan(`<context name="default"><extension name="echo"><condition field="destination_number" expression="^9196$">
		  <action application="answer"/><action application="echo"/></condition></extension></context>`)), nil)
}

// max-sessions counts both legs; the refusal says why, carries a Retry-After from the configured
// range and is counted.
func TestAdmissionMaxSessions(t *testing.T) {
	h := admissionHost(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ { // two loopback calls: four sessions
		if _, err := h.Originate(ctx, "loopback/9196", core.OriginateOptions{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	err := h.CheckAdmission(core.Inbound)
	ae, ok := core.IsAdmissionError(err)
	if !ok || ae.Reason != core.RefuseMaxSessions || !errors.Is(err, core.ErrSessionLimit) {
		t.Fatalf("fifth session: %v", err)
	}
	if ae.RetryAfter < 2 || ae.RetryAfter > 3 {
		t.Errorf("Retry-After %d outside 2-3", ae.RetryAfter)
	}
	if _, err := h.Originate(ctx, "loopback/9196", core.OriginateOptions{}); err == nil {
		t.Error("a call over max-sessions was admitted")
	}
	if n := h.Refusals()[core.RefuseMaxSessions]; n < 2 {
		t.Errorf("max-sessions refusals counted %d", n)
	}
	h.HangupAll(core.CauseNormalClearing, nil)
	testhost.WaitGone(t, h, 5*time.Second)
	if err := h.CheckAdmission(core.Inbound); err != nil {
		t.Errorf("after the calls ended: %v", err)
	}
}

// The scheduling-lag signal refuses new inbound calls above max-scheduling-lag-ms and admits
// them again once the lag fell below half of it; outbound legs of calls in progress pass.
func TestAdmissionSchedulingLag(t *testing.T) {
	h := admissionHost(t)
	core.ObserveLagForTest(h, 400*time.Millisecond, 400*time.Millisecond)
	if lag, over := h.SchedulingLag(); !over || lag < 50*time.Millisecond {
		t.Fatalf("lag %s overloaded %v after 400 ms samples", lag, over)
	}
	ae, ok := core.IsAdmissionError(h.CheckAdmission(core.Inbound))
	if !ok || ae.Reason != core.RefuseOverload {
		t.Fatalf("inbound while overloaded: %v", ae)
	}
	if err := h.CheckAdmission(core.Outbound); err != nil {
		t.Errorf("outbound leg refused while overloaded: %v", err)
	}
	core.ObserveLagForTest(h, 40*time.Millisecond) // between half and the threshold: still refusing
	if _, over := h.SchedulingLag(); !over {
		t.Error("hysteresis: admitted again above half the threshold")
	}
	for i := 0; i < 40; i++ {
		core.ObserveLagForTest(h, 0)
	}
	if err := h.CheckAdmission(core.Inbound); err != nil {
		t.Errorf("after the lag went: %v", err)
	}
	if n := h.Refusals()[core.RefuseOverload]; n != 1 {
		t.Errorf("overload refusals %d, want 1", n)
	}
}

// Drain refuses as shutting-down, pause as paused; resuming ends both.
func TestAdmissionDrainAndPause(t *testing.T) {
	h := admissionHost(t)
	h.SetPaused(true)
	if ae, _ := core.IsAdmissionError(h.CheckAdmission(core.Inbound)); ae == nil || ae.Reason != core.RefusePaused {
		t.Errorf("paused: %v", ae)
	}
	h.BeginDrain()
	if ae, _ := core.IsAdmissionError(h.CheckAdmission(core.Outbound)); ae == nil || ae.Reason != core.RefuseShutdown {
		t.Errorf("draining: %v", ae)
	}
	h.SetPaused(false)
	if err := h.CheckAdmission(core.Inbound); err != nil {
		t.Errorf("resumed: %v", err)
	}
}

func TestReclaimerRunsAfterALoad(t *testing.T) {
	calls := core.ReclaimTicksForTest([]int{10, 300, 500, 400, 100, 100, 100, 100, 100, 100, 50})
	if calls != 3 {
		t.Errorf("reclaimed %d times after the load, want 3", calls)
	}
	if calls := core.ReclaimTicksForTest([]int{10, 150, 20, 0, 0}); calls != 0 {
		t.Errorf("reclaimed %d times after a small burst", calls)
	}
}

// While overloaded, new inbound calls are throttled, not shut out: the throttle admits a few a
// second (at least 5) and refuses the rest. CheckAdmission only peeks; the token goes when the
// session starts, so INVITEs that are challenged or fail authentication cost real calls nothing.
func TestAdmissionOverloadThrottles(t *testing.T) {
	h := admissionHost(t)
	core.ObserveLagForTest(h, time.Second, time.Second)
	admitted, refused := 0, 0
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		for i := 0; i < 5; i++ { // challenged INVITEs: checked, never started
			h.CheckAdmission(core.Inbound)
		}
		if h.CheckAdmission(core.Inbound) == nil && core.StartInboundForTest(h) {
			admitted++
		} else {
			refused++
		}
	}
	if admitted < 2 || admitted > 12 || refused < 50 {
		t.Errorf("overloaded for a second: %d admitted, %d refused; want about 5 a second admitted", admitted, refused)
	}
}
