package ivr_test

import (
	"context"
	"sync"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/apps/ivr"
	_ "github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/core"

	"github.com/goswitch/goswitch/internal/testconf"
)

// hunts records where transfers sent each channel.
var hunts sync.Map // uuid -> chan string

type recordingDialplan struct{}

func (recordingDialplan) Hunt(ctx context.Context, s *core.Session, dest, dctx string) (*core.Route, error) {
	if ch, ok := hunts.Load(s.UUID()); ok {
		ch.(chan string) <- dest + "@" + dctx
	}
	return &core.Route{Context: dctx}, nil
}

func init() {
	core.RegisterDialplan(core.DialplanInfo{Name: "XML", New: func(*core.Host) (core.Dialplan, error) { return recordingDialplan{}, nil }})
}

func watch(s *core.Session) chan string {
	ch := make(chan string, 4)
	hunts.Store(s.UUID(), ch)
	return ch
}

const menusConf = `<section name="configuration">
<configuration name="ivr.conf">
  <menus>
    <menu name="top" greet-long="tone_stream://%(300,0,440)" greet-short="tone_stream://%(300,0,550)"
        invalid-sound="tone_stream://%(200,0,1800)" exit-sound="tone_stream://%(200,0,900)"
        timeout="700" inter-digit-timeout="300" max-failures="2" max-timeouts="2" digit-len="4">
      <entry action="menu-exec-app" digits="2" param="transfer 9196 XML default"/>
      <entry action="menu-exec-app" digits="/^(10[01][0-9])$/" param="transfer $1 XML features"/>
      <entry action="menu-sub" digits="6" param="sub"/>
      <entry action="menu-play-sound" digits="7" param="tone_stream://%(300,0,1200)"/>
      <entry action="menu-top" digits="9"/>
      <entry action="menu-exit" digits="0"/>
    </menu>
    <menu name="sub" greet-long="tone_stream://%(300,0,660)" timeout="700" inter-digit-timeout="300">
      <entry action="menu-top" digits="*"/>
      <entry action="menu-back" digits="8"/>
    </menu>
    <menu name="confirmed" greet-long="tone_stream://%(200,0,700)" timeout="700" inter-digit-timeout="300"
        confirm-macro="confirm_it" confirm-key="1" exit-sound="tone_stream://%(200,0,900)">
      <entry action="menu-play-sound" digits="5" param="tone_stream://%(300,0,1200)"/>
      <entry action="menu-exit" digits="0"/>
    </menu>
    <menu name="pinned" pin="4321" pin-file="tone_stream://%(200,0,440)" bad-pin-file="tone_stream://%(200,0,1800)"
        greet-long="tone_stream://%(200,0,700)" timeout="700">
      <entry action="menu-exit" digits="1"/>
    </menu>
  </menus>
</configuration>
</section>
<section name="languages">
  <language name="en">
    <phrases><macros>
      <macro name="confirm_it"><input pattern="^(\d)$"><match>
        <action function="play-file" data="tone_stream://%(200,0,1500)"/>
      </match></input></macro>
    </macros></phrases>
  </language>
</section>`

func TestCompileDefaults(t *testing.T) {
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	menus, err := ivr.Compile(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	top, sub := menus["top"], menus["sub"]
	if top == nil || sub == nil {
		t.Fatalf("menus: %v", menus)
	}
	if top.DigitLen != 4 || top.MaxFailures != 2 || top.MaxTimeouts != 2 || top.InterDigitTimeout != 300*time.Millisecond {
		t.Errorf("top: %+v", top)
	}
	if sub.MaxFailures != 3 || sub.MaxTimeouts != 3 || sub.DigitLen != 1 || sub.GreetShort != sub.GreetLong || menus["pinned"].InterDigitTimeout != 350*time.Millisecond {
		t.Errorf("sub defaults: %+v", sub)
	}
	if sub.PinFile != "ivr/ivr-please_enter_pin_followed_by_pound.wav" || sub.BadPinFile != "conference/conf-bad-pin.wav" || sub.ConfirmAttempts != 3 {
		t.Errorf("sub pin defaults: %+v", sub)
	}
	e, caps := top.Find("1005")
	if e == nil || caps[1] != "1005" || e.Action != ivr.ActionExecApp {
		t.Errorf("regex entry: %v %v", e, caps)
	}
	if e, _ := top.Find("1200"); e != nil {
		t.Errorf("1200 matched %v", e)
	}
}

func TestVanillaDemoIVRCompiles(t *testing.T) {
	h := playtest.NewHostDir(t, testconf.Vanilla(t))
	menus, err := ivr.Compile(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	m := menus["demo_ivr"]
	if m == nil || menus["demo_ivr_submenu"] == nil {
		t.Fatalf("menus: %v", menus)
	}
	if m.GreetLong != "phrase:demo_ivr_main_menu" || m.GreetShort != "phrase:demo_ivr_main_menu_short" ||
		m.Timeout != 10*time.Second || m.InterDigitTimeout != 2*time.Second || m.DigitLen != 4 ||
		m.MaxFailures != 3 || m.MaxTimeouts != 3 || len(m.Entries) != 8 || m.ExitSound != "voicemail/vm-goodbye.wav" {
		t.Errorf("demo_ivr: %+v", m)
	}
	if sub := menus["demo_ivr_submenu"]; sub.Timeout != 15*time.Second || sub.Entries[0].Action != ivr.ActionTop {
		t.Errorf("submenu: %+v", sub)
	}
}

func TestTransferByLiteralAndRegex(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	for _, tc := range []struct{ press, want string }{{"2", "9196@default"}, {"1005", "1005@features"}} {
		s, ph := playtest.NewCall(t, h, "1000")
		hunted := watch(s)
		playtest.Run(t, s, "ivr", "top")
		ph.WaitTone(0, 440, 2*time.Second)
		ph.DTMF(tc.press) // during the greeting: cuts it
		select {
		case got := <-hunted:
			if got != tc.want {
				t.Errorf("press %s: transferred to %s, want %s", tc.press, got, tc.want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("press %s: no transfer", tc.press)
		}
		playtest.Wait(t, s, 3*time.Second)
		if g := playtest.Goertzel(ph.Heard(), 440, 8000); g < 0.05 {
			t.Errorf("greeting not heard (%.3f)", g)
		}
		if g := playtest.Goertzel(ph.Heard(), 900, 8000); g > 0.01 {
			t.Errorf("exit sound played on transfer (%.3f)", g)
		}
	}
}

func TestInvalidAndFailure(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "ivr", "top")
	m := ph.WaitTone(0, 440, 2*time.Second)
	ph.DTMF("5")
	ph.WaitTone(m, 550, 3*time.Second) // inter-digit timeout, invalid sound, short greeting
	ph.DTMF("3")
	playtest.Wait(t, s, 5*time.Second)
	if got := s.Var("ivr_menu_status"); got != "failure" {
		t.Errorf("ivr_menu_status = %q", got)
	}
	heard := ph.Heard()
	for _, f := range []float64{440, 550, 1800, 900} { // long, short greeting, invalid, exit
		if g := playtest.Goertzel(heard, f, 8000); g < 0.03 {
			t.Errorf("%v Hz not heard (%.3f)", f, g)
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	s, ph := playtest.NewCall(t, h, "1000")
	start := time.Now()
	playtest.Run(t, s, "ivr", "top")
	playtest.Wait(t, s, 5*time.Second)
	if got := s.Var("ivr_menu_status"); got != "timeout" {
		t.Errorf("ivr_menu_status = %q", got)
	}
	// Two passes of greeting (300 ms) + timeout (700 ms).
	if el := time.Since(start); el < 1800*time.Millisecond {
		t.Errorf("gave up after %v", el)
	}
	if g := playtest.Goertzel(ph.Heard(), 1800, 8000); g > 0.01 {
		t.Errorf("invalid sound played on timeout (%.3f)", g)
	}
}

func TestSubMenuTopPlayExit(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "ivr", "top")
	mark := 0
	step := func(d string, prompt float64) int { // press d once prompt is playing
		mark = ph.WaitTone(mark, prompt, 3*time.Second)
		ph.DTMF(d)
		return mark
	}
	step("6", 440)             // into sub
	subMark := step("*", 660)  // sub greets (660), menu-top
	topMark := step("7", 440)  // top greet-long again, play sound
	exitMark := step("0", 550) // after play-sound: greet-short, then exit
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard[:subMark], 660, 8000); g < 0.05 {
		t.Errorf("sub-menu greeting not heard (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[subMark:topMark], 440, 8000); g < 0.05 {
		t.Errorf("menu-top did not restart the top greeting (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[topMark:exitMark], 1200, 8000); g < 0.05 {
		t.Errorf("menu-play-sound not heard (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[exitMark:], 900, 8000); g < 0.05 {
		t.Errorf("exit sound not heard (%.3f)", g)
	}
	if got := s.Var("ivr_menu_status"); got != "success" {
		t.Errorf("ivr_menu_status = %q", got)
	}
}

func TestPin(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "ivr", "pinned")
	m := ph.WaitTone(0, 440, 2*time.Second) // the pin prompt
	ph.DTMF("1111#")
	m = ph.WaitTone(m, 1800, 2*time.Second)    // bad pin
	mark := ph.WaitTone(m, 440, 2*time.Second) // asked again
	ph.DTMF("4321#")
	ph.WaitTone(mark, 700, 2*time.Second) // the menu greets
	ph.DTMF("1")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard[:mark], 1800, 8000); g < 0.05 {
		t.Errorf("bad-pin sound not heard (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[mark:], 700, 8000); g < 0.05 {
		t.Errorf("menu greeting after the right pin not heard (%.3f)", g)
	}
	if got := s.Var("ivr_menu_status"); got != "success" {
		t.Errorf("ivr_menu_status = %q", got)
	}
}

func TestVanillaDemoIVR(t *testing.T) {
	t.Parallel()
	h := playtest.NewHostDir(t, testconf.Vanilla(t))
	s, ph := playtest.NewCall(t, h, "1000")
	hunted := watch(s)
	playtest.Run(t, s, "ivr", "demo_ivr")
	ph.WaitVoiced(0, 300, time.Second, 5*time.Second) // a second of the long greeting (embedded prompts)
	ph.DTMF("2")
	select {
	case got := <-hunted:
		if got != "9196@default" {
			t.Errorf("transferred to %s", got)
		}
	case <-time.After(5 * time.Second): // inter-digit-timeout is 2 s
		t.Fatal("no transfer to 9196")
	}
	playtest.Wait(t, s, 3*time.Second)
}

// The default tree goswitch ships (conf/) must run its demo IVR with the embedded prompts.
func TestProjectConfDemoIVR(t *testing.T) {
	t.Parallel()
	h := playtest.NewHostDir(t, "../../conf")
	menus, err := ivr.Compile(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	if menus["demo_ivr"] == nil || menus["demo_ivr_submenu"] == nil {
		t.Fatalf("menus: %v", menus)
	}
	s, ph := playtest.NewCall(t, h, "1000")
	hunted := watch(s)
	playtest.Run(t, s, "ivr", "demo_ivr")
	ph.WaitVoiced(0, 300, time.Second, 5*time.Second) // a second of the long greeting (embedded prompts)
	ph.DTMF("1005")
	select {
	case got := <-hunted:
		if got != "1005@features" {
			t.Errorf("transferred to %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no transfer")
	}
	playtest.Wait(t, s, 5*time.Second)
}

func TestConfirmMacro(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(menusConf))
	s, ph := playtest.NewCall(t, h, "1000")
	playtest.Run(t, s, "ivr", "confirmed")
	const wait = 3 * time.Second
	m := ph.WaitTone(0, 700, wait) // the greeting
	ph.DTMF("5")                   // confirm macro plays; '2' is not the confirm key: rejected as invalid
	m1 := ph.WaitTone(m, 1500, wait)
	ph.DTMF("2")
	m2 := ph.WaitTone(m1, 700, wait) // greeted again
	ph.DTMF("5")
	m = ph.WaitTone(m2, 1500, wait)
	ph.DTMF("1") // confirmed: the 1200 Hz sound plays
	m = ph.WaitTone(m, 1200, wait)
	m3 := ph.WaitTone(m, 700, wait) // and the menu greets again
	ph.DTMF("0")
	ph.WaitTone(m3, 1500, wait)
	ph.DTMF("1")
	playtest.Wait(t, s, 5*time.Second)
	heard := ph.Heard()
	if g := playtest.Goertzel(heard[:m1], 1500, 8000); g < 0.05 {
		t.Errorf("confirm macro not played (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[m1:m2], 1200, 8000); g > 0.01 {
		t.Errorf("unconfirmed entry ran (%.3f)", g)
	}
	if g := playtest.Goertzel(heard[m2:m3], 1200, 8000); g < 0.05 {
		t.Errorf("confirmed entry did not run (%.3f)", g)
	}
	if got := s.Var("ivr_menu_status"); got != "success" {
		t.Errorf("ivr_menu_status = %q", got)
	}
}
