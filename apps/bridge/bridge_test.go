package bridge_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const contexts = `
<context name="default">
  <extension name="ringback"><condition field="destination_number" expression="^9181$">
    <action application="set" data="ringback=%(1000,0,440)"/>
    <action application="set" data="call_timeout=2"/>
    <action application="bridge" data="{ignore_early_media=true}loopback/wait/other"/></condition></extension>
  <extension name="timeout"><condition field="destination_number" expression="^9183$">
    <action application="set" data="call_timeout=1"/>
    <action application="bridge" data="{ignore_early_media=true}loopback/wait/other"/>
    <action application="set" data="after=${originate_disposition}"/>
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="early"><condition field="destination_number" expression="^9185$">
    <action application="bridge" data="loopback/early/other"/></condition></extension>
  <extension name="early_answer"><condition field="destination_number" expression="^9186$">
    <action application="bridge" data="loopback/early_answer/other"/></condition></extension>
  <extension name="seq"><condition field="destination_number" expression="^9184$">
    <action application="bridge" data="error/user_busy|loopback/answer/other"/></condition></extension>
</context>
<context name="other">
  <extension name="wait"><condition field="destination_number" expression="^wait$">
    <action application="ring_ready"/><action application="sleep" data="20000"/></condition></extension>
  <extension name="early"><condition field="destination_number" expression="^early$">
    <action application="pre_answer"/>
    <action application="playback" data="tone_stream://%(10000,0,600)"/></condition></extension>
  <extension name="early_answer"><condition field="destination_number" expression="^early_answer$">
    <action application="pre_answer"/>
    <action application="playback" data="tone_stream://%(400,0,600)"/>
    <action application="answer"/>
    <action application="playback" data="tone_stream://%(10000,0,800)"/></condition></extension>
  <extension name="answer"><condition field="destination_number" expression="^answer$">
    <action application="answer"/><action application="park"/></condition></extension>
</context>`

func TestRingbackWhileBLegRings(t *testing.T) {
	h := testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
	// originate with a short timeout: the call never answers, we only listen to the early media.
	done := make(chan error, 1)
	var caller *core.Session
	sessions := make(chan *core.Session, 1)
	go func() {
		_, err := h.Originate(context.Background(), "{loopback_no_pre_answer=false}loopback/9181", core.OriginateOptions{
			OnProgress: func(leg *core.Session, withMedia bool) {
				if withMedia {
					select {
					case sessions <- leg:
					default:
					}
				}
			},
		})
		done <- err
	}()
	select {
	case caller = <-sessions:
	case <-time.After(3 * time.Second):
		t.Fatal("no early media on the caller leg")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if !testhost.Hears(ctx, caller.Port().Stream(), 440, 100) {
		t.Error("caller did not hear the 440 Hz ringback")
	}
	caller.Hangup(core.CauseNormalClearing)
	<-done
	testhost.WaitGone(t, h, 3*time.Second)
}

func TestBridgeTimeoutContinues(t *testing.T) {
	h := testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
	start := time.Now()
	b, err := h.Originate(context.Background(), "loopback/9183", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	in, _ := h.Session(b.Var("other_loopback_leg_uuid"))
	if el := time.Since(start); el < 900*time.Millisecond || el > 3*time.Second {
		t.Errorf("call_timeout=1 took %v", el)
	}
	if in == nil || in.Var("after") != "NO_ANSWER" {
		t.Errorf("after a NO_ANSWER the dialplan must continue; after=%q", in.Var("after"))
	}
}

func TestSequentialFailover(t *testing.T) {
	h := testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
	b, err := h.Originate(context.Background(), "loopback/9184", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	in, _ := h.Session(b.Var("other_loopback_leg_uuid"))
	deadline := time.Now().Add(2 * time.Second)
	for in.Peer() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p := in.Peer()
	if p == nil || p.Name() != "loopback/answer-a" {
		t.Fatalf("after USER_BUSY the | group should reach loopback/answer; peer %v", p)
	}
}

// TestEarlyMediaReachesCaller: without ignore_early_media, the B-leg's 183 audio reaches the caller
// before anyone answers.
func TestEarlyMediaReachesCaller(t *testing.T) {
	h := testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
	sessions := make(chan *core.Session, 1)
	done := make(chan error, 1)
	go func() {
		_, err := h.Originate(context.Background(), "{originate_timeout=4}loopback/9185", core.OriginateOptions{
			OnProgress: func(leg *core.Session, withMedia bool) {
				if withMedia {
					select {
					case sessions <- leg:
					default:
					}
				}
			},
		})
		done <- err
	}()
	var caller *core.Session
	select {
	case caller = <-sessions:
	case <-time.After(3 * time.Second):
		t.Fatal("no early media on the caller leg")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if !testhost.Hears(ctx, caller.Port().Stream(), 600, 100) {
		t.Error("caller did not hear the B-leg's 600 Hz early media")
	}
	if caller.Answered() {
		t.Error("caller leg answered; the test wanted early media only")
	}
	caller.Hangup(core.CauseNormalClearing)
	<-done
	testhost.WaitGone(t, h, 3*time.Second)
}

// TestEarlyMediaJoinCarriesOnAfterAnswer: the callee's early media is joined to the caller once,
// and the bridge takes that join over at answer: the caller hears the 600 Hz early media, then,
// answered and bridged, the callee's 800 Hz.
func TestEarlyMediaJoinCarriesOnAfterAnswer(t *testing.T) {
	h := testhost.New(t, testhost.Document(testhost.Dialplan(contexts)), nil)
	early := make(chan *core.Session, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	heardEarly := make(chan bool, 1)
	b, err := h.Originate(ctx, "{originate_timeout=4}loopback/9186", core.OriginateOptions{
		OnProgress: func(leg *core.Session, withMedia bool) {
			if withMedia {
				select {
				case early <- leg:
					heardEarly <- testhost.Hears(ctx, leg.Port().Stream(), 600, 100)
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Hangup(core.CauseNormalClearing)
	select {
	case ok := <-heardEarly:
		if !ok {
			t.Error("caller did not hear the callee's 600 Hz early media")
		}
	default:
		t.Fatal("no early media reported before answer")
	}
	if !testhost.Hears(ctx, b.Port().Stream(), 800, 100) {
		t.Error("answered caller did not hear the callee's 800 Hz through the bridge")
	}
	b.Hangup(core.CauseNormalClearing)
	testhost.WaitGone(t, h, 3*time.Second)
}
