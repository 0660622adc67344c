package sip

import (
	"context"
	"strings"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/core/api"
)

// TestShowRegistrations: a SIPp registration appears in `show registrations` with FreeSWITCH's
// columns, through the core's RegistrationLister.
func TestShowRegistrations(t *testing.T) {
	env := newEnv(t, envOpt{})
	r := startSIPp(t, env.addr(t, "internal"), "-sf", scenario("register_only.xml"), "-s", "1001", "-au", "1001", "-ap", "1234",
		"-key", "contact_port", "5098")
	r.wait(t, "register")
	waitFor(t, "binding", 5*time.Second, func() bool { return len(env.ep.Contacts("", "1001", "127.0.0.1")) == 1 })
	out, err := env.h.APIOutput(context.Background(), "show", "registrations")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata" {
		t.Fatalf("header %q", lines[0])
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "1001,") || !strings.Contains(lines[1], "sip:1001@127.0.0.1:5098") ||
		!strings.Contains(lines[1], ",udp,") || !strings.HasSuffix(strings.TrimSpace(out), "1 total.") {
		t.Fatalf("show registrations:\n%s", out)
	}
}
