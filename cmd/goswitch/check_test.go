package main

import (
	"bytes"
	"github.com/goswitch/goswitch/codecs/opus"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goswitch/goswitch/internal/testconf"
)

func runCheckT(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runCheck(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckVanilla(t *testing.T) {
	checkVanillaDir := testconf.Vanilla(t)
	code, out, errs := runCheckT(t, "-conf", checkVanillaDir)
	// The vanilla tree's unsafe defaults are its only errors: ClueCon on "::" and password 1234.
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"autoload_configs/modules.conf.xml:", // positions point into the file that loads it
		"warning: module mod_lua is not supported",
		"warning: module mod_pgsql is not supported", // pre_load_modules.conf
		"warning: section chatplan is not supported",
		"warning: application rxfax is not supported (extension fax_receive, context default)",
		"warning: application esf_page_group is not supported",
		"warning: endpoint skinny/ is not supported (extension Local_Extension_Skinny, context default)",
		"vars.xml:286: warning: stun-set external_rtp_ip=stun:stun.freeswitch.org",
		"event_socket.conf.xml:6: event socket listens on :: with the default password ClueCon",
		"have a default or empty password",
		" 2 error(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "mod_sofia") || strings.Contains(line, "application bridge ") ||
			strings.Contains(line, "application valet_park ") || strings.Contains(line, "application intercept ") ||
			strings.Contains(line, "application eavesdrop ") || strings.Contains(line, "mod_valet_parking") ||
			strings.Contains(line, "mod_fifo") || strings.Contains(line, "application fifo ") ||
			(opus.Available && strings.Contains(line, "mod_opus")) {
			t.Errorf("supported thing reported: %s", line)
		}
		if !strings.Contains(line, "error(s)") && !strings.HasPrefix(line, checkVanillaDir+"/") {
			t.Errorf("line without file:line: %s", line)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + out)
	}
}

func TestCheckDefaultConf(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"conf dir", []string{"-conf", "../../conf"}},
		{"embedded", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCheckT(t, tt.args...)
			// The one error allowed: password 1234 while a profile binds the machine's address
			// (none when local_ip_v4 is loopback). The daemon still runs; see TestCheckSecurity.
			weak := strings.Contains(out, "have a default or empty password")
			if code != 0 && !(code == 1 && weak && strings.Contains(out, ": 1 error(s), ")) {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			// The test binary links the whole module set (modules.go), so every application and
			// endpoint the default tree names is registered: nothing may be reported.
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if strings.Contains(line, "error(s)") || strings.Contains(line, "have a default or empty password") {
					continue
				}
				t.Errorf("default tree is not clean: %s", line)
			}
		})
	}
}

func TestCheckBroken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("freeswitch.xml", `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
</document>
`)
	write("dialplan/default.xml", `<include>
  <context name="default">
    <extension name="echo">
      <condition field="destination_number" expression="^9196$">
        <action application="answer"/>
    </extension>
  </context>
</include>
`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed xml", []string{"-conf", dir}, 1, filepath.Join(dir, "dialplan/default.xml") + ":6: XML syntax error: element <condition> closed by </extension>"},
		{"missing dir", []string{"-conf", filepath.Join(dir, "nope")}, 1, "cannot read config file"},
		{"bad flag", []string{"-nope"}, 2, ""},
		{"stray argument", []string{"-conf", dir, "extra"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runCheckT(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestCheckSetOverride(t *testing.T) {
	code, out, _ := runCheckT(t, "-conf", "../../conf", "-set", "domain=pbx.example.com", "-set", "bad")
	if code != 2 {
		t.Errorf("bad -set accepted: %d %s", code, out)
	}
	var s checkSetFlags
	if err := s.Set("a=b=c"); err != nil || s.m["a"] != "b=c" {
		t.Errorf("Set: %v %v", err, s.m)
	}
}

// TestDefaultConfRoutes dry-runs the default tree's numbers (issue 2 item 8)
// through `goswitch trace` and checks the route each one gets.
func TestDefaultConfRoutes(t *testing.T) {
	tests := []struct {
		context, dest string
		code          int
		want          []string // the route's "Action app(data)" lines
	}{
		{"default", "1000", 0, []string{
			"Action export(dialed_extension=1000)",
			"Action export(RFC2822_DATE=${strftime(%a, %d %b %Y %T %z)})",
			"Action bind_meta_app(1 b s execute_extension::dx XML features)",
			"Action bind_meta_app(3 b s execute_extension::cf XML features)",
			"Action set(ringback=${us-ring})",
			"Action set(transfer_ringback=local_stream://moh)",
			"Action set(call_timeout=30)",
			"Action set(hangup_after_bridge=true)",
			"Action set(continue_on_fail=true)",
			"Action bridge(user/${dialed_extension}@${domain_name})",
			"Action answer()",
			"Action sleep(1000)",
			"Action bridge(loopback/app=voicemail:default ${domain_name} ${dialed_extension})",
		}},
		{"default", "1019", 0, nil},
		{"default", "1020", 1, nil},
		{"default", "9196", 0, []string{"Action answer()", "Action echo()"}},
		{"default", "9664", 0, []string{"Action answer()", "Action playback(local_stream://moh)"}},
		{"default", "5000", 0, []string{"Action answer()", "Action sleep(2000)", "Action ivr(demo_ivr)"}},
		{"default", "3042", 0, []string{"Action answer()", "Action conference(3042-${domain_name}@default)"}},
		{"default", "*98", 0, []string{"Action answer()", "Action sleep(1000)", "Action voicemail(check default ${domain_name})"}},
		{"default", "4000", 0, []string{"Action answer()", "Action sleep(1000)", "Action voicemail(check default ${domain_name})"}},
		{"default", "9170", 0, []string{"Action answer()", "Action sleep(1000)", "Action say(en CURRENT_TIME pronounced ${strepoch()})", "Action hangup()"}},
		{"default", "9172", 0, []string{"Action answer()", "Action sleep(1000)", "Action say(en CURRENT_DATE_TIME pronounced ${strepoch()})", "Action hangup()"}},
		{"default", "7777", 1, nil},
		{"public", "1005", 0, []string{"Action set(outside_call=true)", "Action transfer(1005 XML default)"}},
		{"public", "5551212", 0, nil},
		{"public", "9196", 1, nil},
		{"features", "1003", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.context+"/"+tt.dest, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runTrace([]string{"-conf", "../../conf", "-context", tt.context, tt.dest}, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errb.String())
			}
			if tt.want == nil {
				return
			}
			var got []string
			for _, line := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(line, "Action ") || strings.HasPrefix(line, "ANTI-Action ") {
					got = append(got, line)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("route:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCheckEndpoints(t *testing.T) {
	tests := []struct{ dial, want string }{
		{"user/1000@example.com", "user"},
		{"{ignore_early_media=true}loopback/wait", "loopback"},
		{"{^^:a=1:b=2}[leg_timeout=10]sofia/internal/1000%d,[x=y]user/1001|error/user_busy", "sofia user error"},
		{"skinny/internal/${destination_number}", "skinny"},
		{"${group_call(sales@${domain_name})}", ""},
		{"<b=c>{a='x,y'}sofia/gateway/gw/123:_:{d=e}loopback/9196", "sofia loopback"}, // <> only heads the whole string (switch_ivr_enterprise_originate)
		{"sofia/${use_profile}/$1@conference.freeswitch.org", "sofia"},
		{"{leg_timeout=15}${group(call:$1@${domain_name})}", ""},
		{"", ""},
	}
	if _, err := checkEndpoints("{a=1 sofia/x"); err == nil {
		t.Error("unterminated {} block accepted")
	}
	for _, tt := range tests {
		eps, err := checkEndpoints(tt.dial)
		if got := strings.Join(eps, " "); got != tt.want || err != nil {
			t.Errorf("checkEndpoints(%q) = %q, %v, want %q", tt.dial, got, err, tt.want)
		}
	}
}
