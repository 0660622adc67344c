package user_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	_ "github.com/goswitch/goswitch/endpoints/user"
	"github.com/goswitch/goswitch/internal/testhost"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The directory's dial-string points at loopback so the test needs no SIP: user/1000 rings the
// extension named after the user in context phones.
const directory = `<section name="directory">
  <domain name="test.local">
    <params><param name="dial-string" value="{presence_id=${dialed_user}@${dialed_domain}}loopback/${dialed_user}/phones"/></params>
    <variables><variable name="user_context" value="default"/></variables>
    <groups>
      <group name="all"><users>
        <user id="1000"><variables><variable name="effective_caller_id_name" value="Alice"/></variables></user>
        <user id="1001"/>
        <user id="1002"><params><param name="dial-string" value="error/user_not_registered"/></params></user>
        <user id="1003"><params><param name="dial-string" value=""/></params></user>
        <user id="1004"><params><param name="dial-var-origination_caller_id_name" value="Front Desk"/></params>
          <variables><variable name="effective_caller_id_name" value="Desk 1004"/></variables></user>
      </users></group>
      <group name="sales"><users><user id="1001" type="pointer"/><user id="1000" type="pointer"/></users></group>
    </groups>
  </domain>
</section>`

const phones = `<context name="phones">
  <extension name="answering"><condition field="destination_number" expression="^1000$">
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="desk"><condition field="destination_number" expression="^1004$">
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="busy"><condition field="destination_number" expression="^1001$">
    <action application="hangup" data="USER_BUSY"/></condition></extension>
</context>`

func TestUserEndpoint(t *testing.T) {
	h := testhost.New(t, testhost.Document(directory, testhost.Dialplan(phones)), nil)
	b, err := h.Originate(context.Background(), "user/1000@test.local", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Var("dialed_user") != "1000" || b.Var("presence_id") != "1000@test.local" || b.Var("effective_caller_id_name") != "Alice" {
		t.Errorf("vars on the leg: dialed_user=%q presence_id=%q effective_caller_id_name=%q",
			b.Var("dialed_user"), b.Var("presence_id"), b.Var("effective_caller_id_name"))
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()

	cases := map[string]core.Cause{
		"user/1001@test.local": core.CauseUserBusy,
		"user/1002@test.local": core.CauseUserNotRegistered,
		"user/1003@test.local": core.CauseMandatoryIEMissing,
		"user/9999@test.local": core.CauseSubscriberAbsent,
		"user/1000@nowhere":    core.CauseSubscriberAbsent,
	}
	for dial, want := range cases {
		_, err := h.Originate(context.Background(), dial, core.OriginateOptions{})
		var ce *core.CallError
		if !errors.As(err, &ce) || ce.Cause != want {
			t.Errorf("%s: got %v, want %s", dial, err, want)
		}
	}
	testhost.WaitGone(t, h, 3*time.Second)
}

func TestGroupEndpointAndGroupCall(t *testing.T) {
	h := testhost.New(t, testhost.Document(directory, testhost.Dialplan(phones)), nil)
	out, err := h.APIOutput(context.Background(), "group_call", "sales@test.local+F")
	if err != nil || out != "user/1001@test.local|user/1000@test.local" {
		t.Errorf("group_call = %q, %v", out, err)
	}
	// Simultaneous ring: 1001 is busy, 1000 answers, so the group answers.
	b, err := h.Originate(context.Background(), "group/sales@test.local", core.OriginateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Var("dialed_user"); got != "1000" {
		t.Errorf("answered member %q, want 1000", got)
	}
	b.Hangup(core.CauseNormalClearing)
	<-b.Done()
	if _, err := h.Originate(context.Background(), "group/nobody@test.local", core.OriginateOptions{}); err == nil {
		t.Error("empty group answered")
	}
	testhost.WaitGone(t, h, 3*time.Second)
}

// TestUserCallerID: the callee's directory effective_caller_id_* are variables of its leg, not
// the caller id it is shown (FreeSWITCH sets them on the new channel after it is created);
// dial-var-* params are dial-string variables and do set it.
func TestUserCallerID(t *testing.T) {
	h := testhost.New(t, testhost.Document(directory, testhost.Dialplan(phones)), nil)
	for _, c := range []struct{ dial, name, leg string }{
		{"user/1000@test.local", "Bob", "Alice"},
		{"user/1004@test.local", "Front Desk", "Desk 1004"},
	} {
		b, err := h.Originate(context.Background(), c.dial, core.OriginateOptions{CallerIDName: "Bob", CallerIDNumber: "2000"})
		if err != nil {
			t.Fatal(err)
		}
		if p := b.Profile(); p.CallerIDName != c.name || p.CallerIDNumber != "2000" {
			t.Errorf("%s: caller id %q <%s>, want %q <2000>", c.dial, p.CallerIDName, p.CallerIDNumber, c.name)
		}
		if got := b.Var("effective_caller_id_name"); got != c.leg {
			t.Errorf("%s: leg effective_caller_id_name %q, want %q", c.dial, got, c.leg)
		}
		b.Hangup(core.CauseNormalClearing)
		<-b.Done()
	}
	testhost.WaitGone(t, h, 3*time.Second)
}
