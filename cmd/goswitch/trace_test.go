package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goswitch/goswitch/conf"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/testconf"
)

var traceUpdate = flag.Bool("update-trace", false, "rewrite testdata/trace_*.golden")

// traceFixedGlobals pins the machine-dependent built-ins so golden files are the
// same everywhere.
func traceFixedGlobals(dir string) map[string]string {
	g := xmlconf.BuiltinGlobals(dir)
	for k, v := range map[string]string{
		"hostname": "pbx", "switchname": "pbx", "local_ip_v4": "192.0.2.10", "local_mask_v4": "255.255.255.0",
		"local_ip_v6": "::1", "nat_public_addr": "192.0.2.10", "nat_private_addr": "192.0.2.10",
		"core_uuid": "00000000-0000-0000-0000-000000000000",
	} {
		g[k] = v
	}
	return g
}

func TestTraceGolden(t *testing.T) {
	vanillaConf := testconf.Vanilla(t)
	// A Tuesday morning, US Eastern: inside vanilla's tod_example hours.
	const tuesday = "2026-11-24T10:30:00-05:00"
	cases := []struct {
		golden string
		args   []string
		code   int
	}{
		{"1000", []string{"-cid", "1001", "1000"}, 0},
		{"9196", []string{"9196"}, 0},
		{"9196_srtp", []string{"-var", "rtp_has_crypto=AES_CM_128_HMAC_SHA1_80", "9196"}, 0},
		{"9664", []string{"9664"}, 0},
		{"9664_srtp", []string{"-var", "rtp_has_crypto=AES_CM_128_HMAC_SHA1_80", "9664"}, 0},
		{"5000", []string{"5000"}, 0},
		{"3000", []string{"3000"}, 0},
		{"star98", []string{"*98"}, 0},
		{"9170", []string{"9170"}, 0},
		{"unknown", []string{"55555"}, 0},
		{"public_did", []string{"-context", "public", "-cid", "+15559876543", "-network-addr", "198.51.100.7", "5551212"}, 0},
		{"christmas", []string{"-time", "2026-12-25T09:00:00-05:00", "9196"}, 0},
		{"newyear_tz", []string{"-time", "2027-01-01T15:00:00Z", "-var", "tod_tz_offset=-5", "9196"}, 0},
		{"timezone", []string{"-time", "2026-11-24T23:30:00Z", "-var", "timezone=America/New_York", "9196"}, 0},
		{"valet_6001", []string{"6001"}, 0},
		{"features_noroute", []string{"-context", "features", "nothing"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{"-conf", vanillaConf}, tc.args...)
			if !traceHasFlag(tc.args, "-time") {
				args = append([]string{"-time", tuesday}, args...)
			}
			var out, errb bytes.Buffer
			code := traceWith(traceEnv{globals: traceFixedGlobals, embedded: conf.FS}, args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tc.code, errb.String())
			}
			golden := filepath.Join("testdata", "trace_"+tc.golden+".golden")
			got := "$ goswitch trace " + strings.Join(args, " ") + "\n" + out.String()
			// where the tree is does not matter: name it and its parent (base_dir) by role
			got = strings.ReplaceAll(got, vanillaConf, "<vanilla>")
			got = strings.ReplaceAll(got, filepath.Dir(vanillaConf)+string(filepath.Separator), "<base>/")
			if testing.Verbose() {
				t.Logf("stderr:\n%s", errb.String())
			}
			if *traceUpdate {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update-trace)", err)
			}
			if traceNormalize(got) != traceNormalize(string(want)) {
				t.Errorf("output differs from %s (run go test -update-trace to accept):\n%s", golden, traceDiffLines(string(want), got))
			}
		})
	}
}

// traceNormalize hides what depends on the API modules linked into the test
// binary: vanilla's enum extension tests ${module_exists(mod_enum)}, which is
// "false" with the module_exists API and "" without it. Either way the
// condition fails, so the route is the same.
func traceNormalize(s string) string {
	return strings.ReplaceAll(s, "${module_exists(mod_enum)}(false)", "${module_exists(mod_enum)}()")
}

func traceHasFlag(args []string, f string) bool {
	for _, a := range args {
		if a == f {
			return true
		}
	}
	return false
}

func traceDiffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

func TestTraceRouteFormat(t *testing.T) {
	dir := t.TempDir()
	xml := `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <context name="default">
      <extension name="t">
        <condition field="destination_number" expression="^(\d+)$">
          <action application="answer"/>
          <action application="bridge" data="user/$1@${domain_name}"/>
          <anti-action application="hangup"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
`
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runTrace([]string{"-conf", dir, "-cid", "1000", "2001"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := `Dialplan: sofia/internal/1000@127.0.0.1 parsing [default->t] continue=false
Dialplan: sofia/internal/1000@127.0.0.1 Regex (PASS) [t] destination_number(2001) =~ /^(\d+)$/ break=on-false
Dialplan: sofia/internal/1000@127.0.0.1 Action answer()
Dialplan: sofia/internal/1000@127.0.0.1 Action bridge(user/2001@${domain_name})
Action answer()
Action bridge(user/2001@${domain_name})
`
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if code := runTrace([]string{"-conf", dir, "abc"}, &out, &errb); code != 0 || !strings.HasSuffix(out.String(), "ANTI-Action hangup()\n") {
		t.Fatalf("anti: exit %d %q", code, out.String())
	}
	out.Reset()
	if code := runTrace([]string{"-conf", dir, "-context", "nowhere", "1"}, &out, &errb); code != 1 {
		t.Fatalf("no route: exit %d", code)
	}
	if code := runTrace([]string{"-conf", dir}, &out, &errb); code != 2 {
		t.Fatalf("usage: exit %d", code)
	}
	if code := runTrace([]string{"-conf", dir, "-time", "tomorrow", "1"}, &out, &errb); code != 2 {
		t.Fatalf("bad time: exit %d", code)
	}
	if code := runTrace([]string{"-conf", dir, "-var", "novalue", "1"}, &out, &errb); code != 2 {
		t.Fatalf("bad var: exit %d", code)
	}
}

func TestTraceEmbedded(t *testing.T) {
	// Without -conf and without ./conf the embedded tree is used.
	var out, errb bytes.Buffer
	code := runTrace([]string{"9196"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "Action echo()") {
		t.Errorf("embedded 9196 route:\n%s", out.String())
	}
}

func TestTraceInline(t *testing.T) {
	dir := t.TempDir()
	xml := `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <context name="default">
      <extension name="prep" continue="true">
        <condition field="destination_number" expression="^(\d+)$">
          <action application="set" data="target=$1" inline="true"/>
          <action application="hash" data="insert/a/b/c" inline="true"/>
        </condition>
      </extension>
      <extension name="use">
        <condition field="${target}" expression="^2001$">
          <action application="answer"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
`
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runTrace([]string{"-conf", dir, "-cid", "1000", "2001"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	want := `Dialplan: sofia/internal/1000@127.0.0.1 parsing [default->prep] continue=true
Dialplan: sofia/internal/1000@127.0.0.1 Regex (PASS) [prep] destination_number(2001) =~ /^(\d+)$/ break=on-false
Dialplan: sofia/internal/1000@127.0.0.1 Action set(target=2001) INLINE
Dialplan: sofia/internal/1000@127.0.0.1 Action hash(insert/a/b/c) INLINE
Dialplan: sofia/internal/1000@127.0.0.1 parsing [default->use] continue=false
Dialplan: sofia/internal/1000@127.0.0.1 Regex (PASS) [use] ${target}(2001) =~ /^2001$/ break=on-false
Dialplan: sofia/internal/1000@127.0.0.1 Action answer()
Action answer()
`
	if out.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(errb.String(), "[ERR] This application cannot be executed inline") {
		t.Errorf("stderr: %s", errb.String())
	}
}
