package dptools_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	"github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const contexts = `
<context name="default">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="xfer"><condition field="destination_number" expression="^100$">
    <action application="set" data="before=${destination_number}"/>
    <action application="transfer" data="9196 XML other"/></condition></extension>
  <extension name="sub"><condition field="destination_number" expression="^200$">
    <action application="execute_extension" data="setter XML other"/>
    <action application="answer"/>
    <action application="echo"/></condition></extension>
  <extension name="exp"><condition field="destination_number" expression="^300$">
    <action application="export" data="exported=yes"/>
    <action application="export" data="nolocal:remote_only=1"/>
    <action application="set" data="local=${caller_id_number}"/>
    <action application="bridge" data="loopback/vars/other"/></condition></extension>
  <extension name="cof"><condition field="destination_number" expression="^400$">
    <action application="set" data="continue_on_fail=USER_BUSY"/>
    <action application="bridge" data="error/user_busy"/>
    <action application="set" data="reached=${originate_disposition}"/>
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="hab"><condition field="destination_number" expression="^500$">
    <action application="bridge" data="loopback/short/other"/>
    <action application="set" data="after_bridge=continued"/>
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="meta"><condition field="destination_number" expression="^600$">
    <action application="bind_meta_app" data="2 a s transfer::9196 XML default"/>
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="cause"><condition field="destination_number" expression="^700$">
    <action application="hangup" data="CALL_REJECTED"/></condition></extension>
  <extension name="badapp"><condition field="destination_number" expression="^800$">
    <action application="no_such_app"/></condition></extension>
</context>
<context name="other">
  <extension name="echo"><condition field="destination_number" expression="^9196$">
    <action application="set" data="landed=${rdnis}"/>
    <action application="answer"/><action application="echo"/></condition></extension>
  <extension name="setter"><condition field="destination_number" expression="^setter$">
    <action application="set" data="from_sub=${destination_number}"/></condition></extension>
  <extension name="vars"><condition field="destination_number" expression="^vars$">
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="short"><condition field="destination_number" expression="^short$">
    <action application="answer"/><action application="sleep" data="200"/>
    <action application="hangup" data="USER_BUSY"/></condition></extension>
</context>`

func host(t *testing.T) *core.Host {
	return testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
}

// inboundOf returns the dialplan side of a loopback leg.
func inboundOf(t *testing.T, h *core.Host, b *core.Session) *core.Session {
	t.Helper()
	in, ok := h.Session(b.Var("other_loopback_leg_uuid"))
	if !ok {
		t.Fatal("no inbound loopback half")
	}
	return in
}

func echoes(t *testing.T, b *core.Session) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	go testhost.SendTone(ctx, b.Port().Stream(), 700)
	return testhost.Hears(ctx, b.Port().Stream(), 700, 150)
}

func TestTransferToOtherContext(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/100", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	if !echoes(t, b) {
		t.Fatal("transferred call does not reach the echo")
	}
	in := inboundOf(t, h, b)
	if got := in.Var("landed"); got != "100" {
		t.Errorf("rdnis after transfer = %q, want 100", got)
	}
	if p := in.Profile(); p.Context != "other" || p.DestNumber != "9196" {
		t.Errorf("profile after transfer: context %s dest %s", p.Context, p.DestNumber)
	}
	if in.Var("before") != "100" {
		t.Errorf("vars set before the transfer were lost: %q", in.Var("before"))
	}
}

func TestExecuteExtensionIsASubroutine(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/200", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	if !echoes(t, b) {
		t.Fatal("dialplan did not continue after execute_extension")
	}
	in := inboundOf(t, h, b)
	// FreeSWITCH hunts the sub-extension with a cloned profile but runs its apps on the channel,
	// whose destination_number is still the original one.
	if got := in.Var("from_sub"); got != "200" {
		t.Errorf("from_sub = %q, want 200", got)
	}
	if got := in.Profile().DestNumber; got != "200" {
		t.Errorf("destination after execute_extension = %q, want 200", got)
	}
}

func TestExportReachesBLeg(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "{origination_caller_id_number=5551000}loopback/300", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	a := inboundOf(t, h, b) // runs extension 300 and bridges to loopback/vars/other
	var bleg *core.Session
	deadline := time.Now().Add(3 * time.Second)
	for bleg == nil && time.Now().Before(deadline) {
		bleg = a.Peer()
		time.Sleep(5 * time.Millisecond)
	}
	if bleg == nil {
		t.Fatal("extension 300 never bridged")
	}
	if bleg.Var("exported") != "yes" || bleg.Var("remote_only") != "1" {
		t.Errorf("exported vars on B-leg: exported=%q remote_only=%q", bleg.Var("exported"), bleg.Var("remote_only"))
	}
	if a.Vars().Value("remote_only") != "" {
		t.Error("nolocal: export was set locally")
	}
	if a.Var("local") != "5551000" {
		t.Errorf("set with expansion: local=%q", a.Var("local"))
	}
	if got := bleg.Profile().CallerIDNumber; got != "5551000" {
		t.Errorf("B-leg caller id %q, want the A-leg's 5551000", got)
	}
}

func TestContinueOnFailList(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/400", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	if !echoes(t, b) {
		t.Fatal("dialplan did not continue after a listed failure cause")
	}
	if got := inboundOf(t, h, b).Var("reached"); got != "USER_BUSY" {
		t.Errorf("originate_disposition = %q", got)
	}
}

// TestHangupAfterBridgeDefaultFalse: when the B-leg hangs up after answering, the A-leg goes on with
// its dialplan (FreeSWITCH's default hangup_after_bridge=false).
func TestHangupAfterBridgeDefaultFalse(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/500", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	a := inboundOf(t, h, b)
	if !echoes(t, b) {
		t.Fatal("A-leg did not continue after the bridge ended")
	}
	if a.Var("after_bridge") != "continued" || a.Var("last_bridge_hangup_cause") != "USER_BUSY" {
		t.Errorf("after_bridge=%q last_bridge_hangup_cause=%q", a.Var("after_bridge"), a.Var("last_bridge_hangup_cause"))
	}
}

func TestBindMetaApp(t *testing.T) {
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/600", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	a := inboundOf(t, h, b)
	deadline := time.Now().Add(2 * time.Second)
	for a.State() != core.StatePark && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, d := range "*2" {
		if err := b.Leg().SendDTMF(media.DTMF{Digit: d, Duration: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if !echoes(t, b) {
		t.Fatal("*2 did not run the bound transfer")
	}
}

func TestHangupCauseAndUnknownApp(t *testing.T) {
	h := host(t)
	_, err := h.Originate(context.Background(), "loopback/700", core.OriginateOptions{})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseCallRejected {
		t.Errorf("hangup CALL_REJECTED gave %v", err)
	}
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.ChannelHangup }, 16)
	defer sub.Close()
	_, err = h.Originate(context.Background(), "loopback/800", core.OriginateOptions{})
	if !errors.As(err, &ce) || ce.Cause != core.CauseDestinationOutOfOrder {
		t.Errorf("unknown app gave %v, want DESTINATION_OUT_OF_ORDER", err)
	}
	testhost.WaitGone(t, h, 3*time.Second)
}

func TestInlineDialplan(t *testing.T) {
	acts := dptools.ParseInline("m:^:set:a=1,2^answer^echo")
	if len(acts) != 3 || acts[0].App != "set" || acts[0].Data != "a=1,2" || acts[2].App != "echo" {
		t.Fatalf("ParseInline: %+v", acts)
	}
	h := host(t)
	b, err := h.Originate(context.Background(), "loopback/m:^:set:x=1^answer^echo/default/inline", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	if !echoes(t, b) {
		t.Fatal("inline dialplan did not run answer,echo")
	}
}
