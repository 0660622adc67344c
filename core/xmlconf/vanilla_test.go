package xmlconf

import (
	"strings"
	"testing"

	"github.com/goswitch/goswitch/internal/testconf"
)

func loadVanilla(t testing.TB) *Snapshot {
	t.Helper()
	vanillaDir := testconf.Vanilla(t)
	g := BuiltinGlobals(vanillaDir)
	g["local_ip_v4"] = "192.0.2.10"
	s, err := Load(Options{Dir: vanillaDir, Globals: g})
	if err != nil {
		t.Fatalf("Load vanilla: %v", err)
	}
	return s
}

func TestLoadVanilla(t *testing.T) {
	s := loadVanilla(t)
	for _, w := range s.Warnings() {
		t.Log(w)
	}
	globals := map[string]string{
		"domain":              "192.0.2.10",
		"domain_name":         "192.0.2.10",
		"default_password":    "1234",
		"hold_music":          "local_stream://moh",
		"internal_sip_port":   "5060",
		"external_sip_port":   "5080",
		"us-ring":             "%(2000,4000,440,480)",
		"external_rtp_ip":     "192.0.2.10",
		"console_loglevel":    "info",
		"outbound_caller_id":  "0000000000",
		"global_codec_prefs":  "OPUS,G722,PCMU,PCMA,H264,VP8",
		"default_provider":    "example.com",
		"sound_prefix":        s.globals["sounds_dir"] + "/en/us/callie",
		"internal_auth_calls": "true",
	}
	for k, want := range globals {
		if got, _ := s.Global(k); got != want {
			t.Errorf("global %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := s.Global("digits_dialed_filter"); ok {
		t.Errorf("XX-PRE-PROCESS line was executed")
	}
	for _, name := range []string{"configuration", "dialplan", "directory", "languages", "chatplan"} {
		if s.Section(name) == nil {
			t.Errorf("section %s missing", name)
		}
	}
	sofia := s.Configuration("sofia.conf")
	if sofia == nil {
		t.Fatal("sofia.conf missing")
	}
	if p := s.Pos(sofia); !strings.HasSuffix(p.File, "autoload_configs/sofia.conf.xml") || p.Line != 1 {
		t.Errorf("sofia.conf at %v", p)
	}
	profiles := sofia.FindElements("profiles/profile")
	if len(profiles) < 2 {
		t.Fatalf("profiles: %d", len(profiles))
	}
	for _, p := range profiles {
		pos := s.Pos(p)
		if !strings.Contains(pos.File, "sip_profiles/") {
			t.Errorf("profile %s at %v", p.SelectAttrValue("name", ""), pos)
		}
	}
	u := s.Directory().User("1000", "192.0.2.10")
	if u == nil {
		t.Fatal("user 1000 missing")
	}
	if u.Param("password") != "1234" || u.Var("user_context") != "default" || u.Var("transfer_fallback_extension") != "operator" {
		t.Errorf("user 1000: %+v", u)
	}
	if got := strings.Join(u.Groups, ","); got != "default,sales" {
		t.Errorf("1000 groups = %s", got)
	}
	if p := s.Directory().Domain("192.0.2.10").Param("dial-string"); !strings.Contains(p, "${sofia_contact(*/${dialed_user}@${dialed_domain})}") {
		t.Errorf("dial-string %q", p)
	}
	if n := len(s.Directory().GroupUsers("192.0.2.10", "billing")); n != 5 {
		t.Errorf("billing has %d users", n)
	}
	if b := s.Directory().User("brian", "192.0.2.10"); b == nil || b.CIDR != "192.0.2.0/24" {
		t.Errorf("brian: %+v", b)
	}
	if ex := s.Directory().User("example.com", "192.0.2.10"); ex == nil || len(ex.Gateways) != 1 || ex.Gateways[0].Name != "example.com" {
		t.Errorf("example.com gateway user: %+v", ex)
	}
}

// BenchmarkLoadVanilla measures a full reloadxml of FreeSWITCH's own tree
// (204 files): preprocess, parse, position index, directory.
func BenchmarkLoadVanilla(b *testing.B) {
	vanillaDir := testconf.Vanilla(b)
	g := BuiltinGlobals(vanillaDir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(Options{Dir: vanillaDir, Globals: g}); err != nil {
			b.Fatal(err)
		}
	}
}
