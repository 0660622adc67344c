package conf

import (
	"strconv"
	"testing"

	"github.com/goswitch/goswitch/core/xmlconf"
)

func TestDefaultTreeLoads(t *testing.T) {
	s, err := xmlconf.Load(xmlconf.Options{FS: FS, Globals: map[string]string{
		"local_ip_v4": "192.0.2.7", "sounds_dir": "/snd", "recordings_dir": "/rec",
		"log_dir": "/log", "certs_dir": "/certs",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range s.Warnings() {
		t.Errorf("warning in the default tree: %v", w)
	}
	globals := map[string]string{
		"domain":               "192.0.2.7",
		"domain_name":          "192.0.2.7",
		"default_password":     "1234",
		"hold_music":           "local_stream://moh",
		"internal_sip_port":    "5060",
		"external_sip_port":    "5080",
		"internal_tls_port":    "5061",
		"external_tls_port":    "5081",
		"global_codec_prefs":   "OPUS,G722,PCMU,PCMA",
		"outbound_codec_prefs": "PCMU,PCMA,G722",
		"us-ring":              "%(2000,4000,440,480)",
		"uk-ring":              "%(400,200,400,450);%(400,2000,400,450)",
		"console_loglevel":     "info",
		"outbound_caller_name": "goswitch",
		"outbound_caller_id":   "0000000000",
		"sound_prefix":         "/snd/en/us/callie",
	}
	for k, want := range globals {
		if got, _ := s.Global(k); got != want {
			t.Errorf("global %s = %q, want %q", k, got, want)
		}
	}
	for _, name := range []string{"modules.conf", "switch.conf", "sofia.conf", "acl.conf", "event_socket.conf", "cdr_csv.conf",
		"voicemail.conf", "conference.conf", "ivr.conf", "console.conf", "logfile.conf", "local_stream.conf", "timezones.conf"} {
		if s.Configuration(name) == nil {
			t.Errorf("configuration %s missing", name)
		}
	}
	profiles := s.Configuration("sofia.conf").FindElements("profiles/profile")
	if len(profiles) != 2 || profiles[0].SelectAttrValue("name", "") != "external" || profiles[1].SelectAttrValue("name", "") != "internal" {
		t.Errorf("profiles: %d", len(profiles))
	}
	port := s.Configuration("sofia.conf").FindElement("profiles/profile[@name='internal']/settings/param[@name='sip-port']")
	if port == nil || port.SelectAttrValue("value", "") != "5060" {
		t.Errorf("internal sip-port: %v", port)
	}
	if m := s.Configuration("ivr.conf").FindElement("menus/menu[@name='demo_ivr']"); m == nil {
		t.Error("demo_ivr menu missing")
	}
	for _, ctx := range []string{"default", "public", "features"} {
		if s.Section("dialplan").FindElement("context[@name='"+ctx+"']") == nil {
			t.Errorf("context %s missing", ctx)
		}
	}
	if s.Section("languages").FindElement("language[@name='en']") == nil {
		t.Error("language en missing")
	}
	dir := s.Directory()
	for i := 1000; i <= 1019; i++ {
		id := strconv.Itoa(i)
		u := dir.User(id, "192.0.2.7")
		if u == nil {
			t.Errorf("user %s missing", id)
			continue
		}
		if u.Param("password") != "1234" || u.Param("vm-password") != id || u.Var("user_context") != "default" ||
			u.Var("effective_caller_id_number") != id || u.Var("accountcode") != id || u.Var("toll_allow") == "" || u.Var("callgroup") == "" {
			t.Errorf("user %s: %+v", id, u)
		}
	}
	if ds := dir.Domain("192.0.2.7").Param("dial-string"); ds != "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}" {
		t.Errorf("dial-string %q", ds)
	}
	if n := len(dir.GroupUsers("192.0.2.7", "sales")); n != 5 {
		t.Errorf("sales: %d users", n)
	}
}
