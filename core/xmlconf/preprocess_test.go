package xmlconf

import (
	"github.com/beevik/etree"

	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// tree builds an in-memory conf tree; "" keys are not allowed by MapFS so
// the root is always freeswitch.xml.
func tree(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

func expandedOf(t *testing.T, s *Snapshot) string {
	t.Helper()
	return string(s.Expanded())
}

// squash removes blank space so expected output ignores indentation.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestPreprocessRules(t *testing.T) {
	env := func(name string) (string, bool) {
		if name == "GS_TEST_HOME" {
			return "/home/gs", true
		}
		return "", false
	}
	tests := []struct {
		name      string
		files     map[string]string
		overrides map[string]string
		exec      bool
		want      string            // expanded text, blanks squashed
		globals   map[string]string // expected globals ("" value = must be unset)
		warn      string            // substring of some warning
	}{
		{
			name: "global substitution, unknown is empty",
			files: map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="set" data="a=1"/>
<d x="$${a}" y="[$${nope}]"/>`},
			want: `<d x="1" y="[]"/>`,
			warn: "undefined global $${nope}",
		},
		{
			name: "substitution inside comments",
			files: map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="set" data="a=1"/>
<d><!-- a is $${a} --></d>`},
			want: `<d><!-- a is 1 --></d>`,
		},
		{
			name: "include and xml-decl lines dropped whole",
			files: map[string]string{"freeswitch.xml": `<?xml version="1.0"?> <lost/>
<d>
<include> <lost/>
<kept/>
</include><lost/>
</d>`},
			want: `<d> <kept/> </d>`,
		},
		{
			name: "set trims blanks around = only",
			files: map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="set" data="a  =  b c "/>
<d/>`},
			want:    `<d/>`,
			globals: map[string]string{"a": "b c "},
		},
		{
			name: "directive is case-insensitive and eats the whole line",
			files: map[string]string{"freeswitch.xml": `<d>
<lost/> <x-pre-process CMD="SET" Data="a=1"/> <lost2/>
<e v="$${a}"/></d>`},
			want: `<d> <e v="1"/></d>`,
		},
		{
			name: "directive inside a comment still runs",
			files: map[string]string{"freeswitch.xml": `<d>
<!-- <X-PRE-PROCESS cmd="set" data="a=commented"/> -->
<e v="$${a}"/></d>`},
			want: `<d> <e v="commented"/></d>`,
		},
		{
			name: "XX-PRE-PROCESS line dropped without running",
			files: map[string]string{"freeswitch.xml": `<d>
<XX-PRE-PROCESS cmd="set" data="a=1"/>
<e v="[$${a}]"/></d>`},
			want:    `<d> <e v="[]"/></d>`,
			globals: map[string]string{"a": ""},
		},
		{
			name: "X-NO-PRE-PROCESS passes through to the XML",
			files: map[string]string{"freeswitch.xml": `<d>
<X-NO-PRE-PROCESS cmd="set" data="a=1"/>
</d>`},
			want:    `<d> <X-NO-PRE-PROCESS cmd="set" data="a=1"/> </d>`,
			globals: map[string]string{"a": ""},
		},
		{
			name: "set sees earlier sets, value expanded at that point",
			files: map[string]string{"freeswitch.xml": `<X-PRE-PROCESS cmd="set" data="a=1"/>
<X-PRE-PROCESS cmd="set" data="b=$${a}2"/>
<X-PRE-PROCESS cmd="set" data="a=9"/>
<d a="$${a}" b="$${b}"/>`},
			want: `<d a="9" b="12"/>`,
		},
		{
			name: "include relative to the including file, glob in order, dot files skipped",
			files: map[string]string{
				"freeswitch.xml":       "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"sub/*.xml\"/>\n</d>",
				"sub/b.xml":            `<b/>`,
				"sub/a.xml":            "<include>\n<a/>\n<X-PRE-PROCESS cmd=\"include\" data=\"../other/c.xml\"/>\n</include>",
				"sub/.hidden.xml":      `<hidden/>`,
				"other/c.xml":          `<c/>`,
				"sub/notxml.txt":       `<no/>`,
				"sub/dir.xml/keep.xml": `<no/>`,
			},
			want: `<d> <a/> <c/><b/></d>`,
		},
		{
			name:  "include of a missing plain file warns",
			files: map[string]string{"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"nope.xml\"/>\n</d>"},
			want:  `<d> </d>`,
			warn:  "include nope.xml: no such file",
		},
		{
			name:  "include glob without matches is quiet",
			files: map[string]string{"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"none/*.xml\"/>\n</d>"},
			want:  `<d> </d>`,
		},
		{
			name: "alternative comment syntax",
			files: map[string]string{
				"freeswitch.xml": `<d><!--#set "a=1"--> <e v="[$${a}]"/>
<e v="$${a}"/> <!--#include "f.xml"--> <g/>
</d>`,
				"f.xml": `<f/>`,
			},
			// The line is expanded before its command runs; the include
			// lands after the rest of its line.
			want: `<d> <e v="[]"/> <e v="1"/> <g/> <f/></d>`,
		},
		{
			name: "multi-line #comment skipped up to -->",
			files: map[string]string{"freeswitch.xml": `<d>  <!--#comment
  <X-PRE-PROCESS cmd="set" data="a=1"/>
  <lost/>
  --><kept/>
</d>`},
			want: `<d> <kept/> </d>`,
		},
		{
			// QUIRK copied: expand_vars writes NULs over the closing braces
			// of substituted variables in the raw line, and the drop check
			// and the end of a multi-line #comment look at that raw line.
			name:  "drop check only sees text before the first substituted variable",
			files: map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"a=1\"/>\n<d>\n<e v=\"$${a}\"/><!-- <?php -->\n</d>"},
			want:  `<d> <e v="1"/><!-- <?php --> </d>`,
		},
		{
			name:  "multi-line #comment end line is cut at a variable",
			files: map[string]string{"freeswitch.xml": "<d>\n<!--#comment\n--><e/>$${x} tail\n</d>"},
			want:  `<d> <e/>$${x</d>`,
		},
		{
			name:      "command-line override wins over set",
			files:     map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"domain=example.org\"/>\n<d v=\"$${domain}\"/>"},
			overrides: map[string]string{"domain": "pbx.test"},
			want:      `<d v="pbx.test"/>`,
		},
		{
			name:    "env-set",
			files:   map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"env-set\" data=\"home=$GS_TEST_HOME\"/>\n<X-PRE-PROCESS cmd=\"env-set\" data=\"x=$GS_NOT_SET\"/>\n<d/>"},
			want:    `<d/>`,
			globals: map[string]string{"home": "/home/gs", "x": ""},
		},
		{
			name:    "stun-set with a stun server uses the local address",
			files:   map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"stun-set\" data=\"ext=stun:stun.example.org\"/>\n<X-PRE-PROCESS cmd=\"stun-set\" data=\"fixed = 203.0.113.5\"/>\n<d/>"},
			want:    `<d/>`,
			globals: map[string]string{"ext": "192.0.2.10", "fixed": "203.0.113.5"},
			warn:    "no network lookup",
		},
		{
			name:    "exec and exec-set are off by default",
			files:   map[string]string{"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"exec\" data=\"echo '<x/>'\"/>\n<X-PRE-PROCESS cmd=\"exec-set\" data=\"v=echo hi\"/>\n</d>"},
			want:    `<d> </d>`,
			globals: map[string]string{"v": ""},
			warn:    "running commands is disabled",
		},
		{
			name:    "exec and exec-set when allowed",
			files:   map[string]string{"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"exec\" data=\"echo '<x></x>'\"/>\n<X-PRE-PROCESS cmd=\"exec-set\" data=\"v=echo 'hi  '\"/>\n</d>"},
			exec:    true,
			want:    `<d> <x></x> </d>`,
			globals: map[string]string{"v": "hi"},
		},
		{
			name:    "taint check turns ${ into %{ in globals",
			files:   map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"a=${b} and $x\"/>\n<d/>"},
			want:    `<d/>`,
			globals: map[string]string{"a": "%{b} and $x"},
			warn:    "stores ${",
		},
		{
			name:  "unterminated $${ copied literally",
			files: map[string]string{"freeswitch.xml": "<d v=\"$${oops\"/>"},
			want:  `<d v="$${oops"/>`,
			warn:  "unterminated",
		},
		{
			name:  "nested braces in a global name",
			files: map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"a{b}=1\"/>\n<d v=\"$${a{b}}\"/>"},
			want:  `<d v="1"/>`,
		},
		{
			name:  "CRLF line endings",
			files: map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"a=1\"/>\r\n<d v=\"$${a}\"/>\r\n"},
			want:  `<d v="1"/>`,
		},
		{
			name:  "unknown command warns",
			files: map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"frobnicate\" data=\"x\"/>\n<d/>"},
			want:  `<d/>`,
			warn:  `unknown preprocessor command "frobnicate"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(Options{
				FS:        tree(tt.files),
				Globals:   map[string]string{"local_ip_v4": "192.0.2.10"},
				Overrides: tt.overrides,
				AllowExec: tt.exec,
				Env:       env,
			})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := squash(expandedOf(t, s)); got != squash(tt.want) {
				t.Errorf("expanded:\n got %s\nwant %s", got, squash(tt.want))
			}
			for k, want := range tt.globals {
				got, ok := s.Global(k)
				if want == "" && ok {
					t.Errorf("global %s = %q, want unset", k, got)
				} else if want != "" && got != want {
					t.Errorf("global %s = %q, want %q", k, got, want)
				}
			}
			if tt.warn != "" {
				found := false
				for _, w := range s.Warnings() {
					found = found || strings.Contains(w.Msg, tt.warn)
				}
				if !found {
					t.Errorf("no warning containing %q in %v", tt.warn, s.Warnings())
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the first error, as printed
	}{
		{
			name: "mismatched tag in an included file",
			files: map[string]string{
				"freeswitch.xml":          "<document>\n<section name=\"dialplan\">\n<X-PRE-PROCESS cmd=\"include\" data=\"dialplan/*.xml\"/>\n</section>\n</document>\n",
				"dialplan/default.xml":    "<include>\n<context name=\"default\">\n<extension name=\"x\">\n<condition>\n</extension>\n</context>\n</include>\n",
				"dialplan/aaa_first.xml":  "<context name=\"a\"/>\n",
				"dialplan/zzz_second.xml": "<context name=\"z\"/>\n",
			},
			want: "dialplan/default.xml:5: XML syntax error: element <condition> closed by </extension>",
		},
		{
			name:  "unclosed root",
			files: map[string]string{"freeswitch.xml": "<document>\n<section name=\"x\">\n</section>\n"},
			want:  "freeswitch.xml:3: XML syntax error: unexpected EOF",
		},
		{
			name: "include cycle",
			files: map[string]string{
				"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"a.xml\"/>\n</d>",
				"a.xml":          "<a/>\n<X-PRE-PROCESS cmd=\"include\" data=\"b.xml\"/>\n",
				"b.xml":          "<X-PRE-PROCESS cmd=\"include\" data=\"a.xml\"/>\n",
			},
			want: "b.xml:1: include cycle: a.xml -> b.xml -> a.xml",
		},
		{
			name:  "missing root file",
			files: map[string]string{"other.xml": "<d/>"},
			want:  "freeswitch.xml: cannot read config file",
		},
		{
			name:  "nothing left to parse",
			files: map[string]string{"freeswitch.xml": "<include>\n</include>\n"},
			want:  "freeswitch.xml: no XML element left after preprocessing",
		},
		{
			name:  "two roots",
			files: map[string]string{"freeswitch.xml": "<a/>\n<b/>\n"},
			want:  "freeswitch.xml:2: XML syntax error: more than one root element",
		},
		{
			name:  "bad attribute",
			files: map[string]string{"freeswitch.xml": "<a>\n\n<b x=1/>\n</a>\n"},
			want:  "freeswitch.xml:3: XML syntax error: unquoted or missing attribute value in element",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(Options{FS: tree(tt.files), Globals: map[string]string{}})
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("Load error = %v, want *Error", err)
			}
			errs := xe.Errors()
			if len(errs) == 0 {
				t.Fatalf("no errors in %v", xe)
			}
			if got := errs[0].String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error:\n got %s\nwant %s...", got, tt.want)
			}
		})
	}
}

func TestIncludeDepthLimit(t *testing.T) {
	_, err := Load(Options{FS: tree(map[string]string{
		"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"self*.xml\"/>\n</d>",
		"self1.xml":      "<X-PRE-PROCESS cmd=\"include\" data=\"self*.xml\"/>\n",
	}), Globals: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Fatalf("err = %v", err)
	}
	// A deep chain without a cycle hits FreeSWITCH's limit of 100.
	files := map[string]string{"freeswitch.xml": "<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"f0.xml\"/>\n</d>"}
	for i := range 102 {
		files["f"+strconv.Itoa(i)+".xml"] = "<X-PRE-PROCESS cmd=\"include\" data=\"f" + strconv.Itoa(i+1) + ".xml\"/>\n"
	}
	_, err = Load(Options{FS: tree(files), Globals: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "maximum include depth (100)") {
		t.Fatalf("err = %v", err)
	}
}

func TestPositions(t *testing.T) {
	s, err := Load(Options{FS: tree(map[string]string{
		"freeswitch.xml":                  "<?xml version=\"1.0\"?>\n<document type=\"freeswitch/xml\">\n  <X-PRE-PROCESS cmd=\"include\" data=\"vars.xml\"/>\n  <section name=\"configuration\">\n    <X-PRE-PROCESS cmd=\"include\" data=\"autoload_configs/*.xml\"/>\n  </section>\n</document>\n",
		"vars.xml":                        "<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"p=5060\"/>\n</include>\n",
		"autoload_configs/sofia.conf.xml": "<configuration name=\"sofia.conf\">\n  <settings>\n\n    <param\n      name=\"sip-port\" value=\"$${p}\"/>\n  </settings>\n</configuration>\n",
	}), Globals: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{"/document", "freeswitch.xml:2"},
		{"/document/section", "freeswitch.xml:4"},
		{"/document/section/configuration", "autoload_configs/sofia.conf.xml:1"},
		{"/document/section/configuration/settings/param", "autoload_configs/sofia.conf.xml:4"},
	}
	for _, tt := range tests {
		var e *etree.Element
		if tt.path == "/document" {
			e = s.Root()
		} else {
			e = s.Root().FindElement("." + strings.TrimPrefix(tt.path, "/document"))
		}
		if e == nil {
			t.Fatalf("%s not found", tt.path)
		}
		if got := s.Pos(e).String(); got != tt.want {
			t.Errorf("Pos(%s) = %s, want %s", tt.path, got, tt.want)
		}
	}
	if c := s.Configuration("SOFIA.conf"); c == nil || c.FindElement("settings/param").SelectAttrValue("value", "") != "5060" {
		t.Errorf("Configuration(sofia.conf) = %v", c)
	}
	if s.Configuration("nope.conf") != nil || s.Section("dialplan") != nil {
		t.Error("absent config or section not nil")
	}
}

func TestDirOnDiskAndWriteExpanded(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "conf", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "conf", "freeswitch.xml"), []byte("<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"sub/*.xml\"/>\n</d>\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "conf", "sub", "a.xml"), []byte("<a v=\"$${conf_dir}\"/>\n"), 0o644))
	out := filepath.Join(dir, "freeswitch.xml.fsxml")
	s, err := Load(Options{Dir: filepath.Join(dir, "conf"), WriteExpanded: out})
	must(err)
	b, err := os.ReadFile(out)
	must(err)
	if string(b) != string(s.Expanded()) {
		t.Errorf("written %q, parsed %q", b, s.Expanded())
	}
	a := s.Root().SelectElement("a")
	if got := a.SelectAttrValue("v", ""); got != filepath.Join(dir, "conf") {
		t.Errorf("conf_dir = %q", got)
	}
	if got := s.Pos(a).String(); got != filepath.Join(dir, "conf", "sub", "a.xml")+":1" {
		t.Errorf("pos = %s", got)
	}
}

func TestSnapshotAccessors(t *testing.T) {
	s, err := Load(Options{FS: tree(map[string]string{"freeswitch.xml": "<X-PRE-PROCESS cmd=\"set\" data=\"a=1\"/>\n<document/>"}), Globals: map[string]string{"b": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	g := s.Globals()
	g["a"] = "changed"
	if v, _ := s.Global("a"); v != "1" {
		t.Error("Globals() is not a copy")
	}
	if v, _ := s.Global("b"); v != "2" {
		t.Error("built-in global lost")
	}
	s.Attach("dialplan", 42)
	if s.Attached("dialplan") != 42 || s.Attached("none") != nil {
		t.Error("Attach/Attached")
	}
	if s.Directory() == nil || len(s.Directory().Domains()) != 0 {
		t.Error("empty directory")
	}
}

func TestBareAmpersands(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<a v="x?a=1&b=2"/>`, "x?a=1&b=2"},
		{`<a v="&lt;&amp;&#65;&#x42;&quot;"/>`, `<&AB"`},
		{`<a v="&foo; &#; &#x;"/>`, "&foo; &#; &#x;"},
		{"<a v=\"1\"><!-- a & b --><![CDATA[x & y]]></a>", "1"},
	}
	for _, tt := range tests {
		s, err := Load(Options{FS: tree(map[string]string{"freeswitch.xml": tt.in}), Globals: map[string]string{}})
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := s.Root().SelectAttrValue("v", ""); got != tt.want {
			t.Errorf("%s: v = %q, want %q", tt.in, got, tt.want)
		}
	}
	s, err := Load(Options{FS: tree(map[string]string{"freeswitch.xml": "<a><![CDATA[x & y]]></a>"}), Globals: map[string]string{}})
	if err != nil || s.Root().Text() != "x & y" {
		t.Errorf("CDATA: %v %q", err, s.Root().Text())
	}
}

func TestTaint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${x}", "%{x}"},
		{"$${x}", "$%{x}"},
		{`$\{x}`, `%\{x}`},
		{"$ {x}", "$ {x}"},
		{"a{b}", "a{b}"},
	}
	for _, tt := range tests {
		if got := taint(tt.in); got != tt.want {
			t.Errorf("taint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitLines(t *testing.T) {
	lines, nums := splitLines("a\r\nb\rc\nd")
	if got := strings.Join(lines, "|"); got != "a\r|\n|b\r|c\n|d" {
		t.Errorf("lines %q", got)
	}
	want := []int{1, 1, 2, 3, 4}
	for i := range want {
		if nums[i] != want[i] {
			t.Errorf("nums = %v, want %v", nums, want)
			break
		}
	}
}
