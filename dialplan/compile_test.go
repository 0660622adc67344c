package dialplan

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

func TestCompileErrorsHavePositions(t *testing.T) {
	doc := etree.NewDocument()
	src := "<section name=\"dialplan\">\n<context name=\"default\">\n<extension name=\"bad\">\n<condition line=\"4\" field=\"destination_number\" expression=\"^(10\"/>\n</extension>\n<extension name=\"ok\"><condition field=\"x\" expression=\"${dyn}(\"/></extension>\n</context></section>"
	doc.ReadSettings.ValidateInput = true
	if err := doc.ReadFromString(src); err != nil {
		t.Fatal(err)
	}
	pos := func(e *etree.Element) xmlconf.Pos {
		return xmlconf.Pos{File: "default.xml", Line: atoi(e.SelectAttrValue("line", "0"))}
	}
	_, diags, err := Compile(doc.Root(), pos)
	var ce *xmlconf.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *xmlconf.Error, got %v", err)
	}
	if len(ce.Diags) != 1 || ce.Diags[0].Pos.String() != "default.xml:4" || !strings.Contains(ce.Diags[0].Msg, "^(10") {
		t.Fatalf("diags %v / %v", diags, err)
	}
	if !strings.HasPrefix(err.Error(), "default.xml:4: ") {
		t.Fatalf("error text %q", err)
	}
}

func TestCompileWarnings(t *testing.T) {
	doc := etree.NewDocument()
	doc.ReadFromString(`<section><context name="a"><extension><condition break="sometimes" regex="maybe"><regex field="x" expression="y"/><actoin/></condition><action application="x"/></extension><extensoin/></context><context name="A"/></section>`)
	_, diags, err := Compile(doc.Root(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 6 {
		t.Fatalf("want 6 warnings, got %v", diags)
	}
	for _, d := range diags {
		if !d.Warning {
			t.Errorf("not a warning: %v", d)
		}
	}
}

func TestCompileBadDynamicFailsAtHunt(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="d"><condition field="destination_number" expression="${p}("><action application="x"/></condition></extension>`))
	ch := newFake()
	_, _, err := traceOf(t, dp, ch, "default", "1")
	if !errors.Is(err, core.ErrNoRoute) {
		t.Fatal(err)
	}
}

func TestCompileNilSection(t *testing.T) {
	dp, _, err := Compile(nil, nil)
	if err != nil || len(dp.Contexts()) != 0 {
		t.Fatal(err)
	}
}

func TestSubstitute(t *testing.T) {
	c := captures{subject: "abcdef", idx: []int{0, 6, 0, 3, -1, -1, 3, 6}}
	for in, want := range map[string]string{
		"$1":        "abc",
		"${1}":      "abc",
		"$2":        "",
		"$3$1":      "defabc",
		"$9":        "",
		"${1":       "${1",
		"${x}":      "${x}",
		"$$1":       "$abc",
		"$":         "$",
		"a$0b":      "aabcdefb",
		"$300":      "",
		"${10}":     "",
		"plain":     "plain",
		"x$1y${3}z": "xabcydefz",
	} {
		if got := c.substitute(in); got != want {
			t.Errorf("substitute(%q) = %q, want %q", in, got, want)
		}
	}
	if v := c.dpMatchValue(); v != "ARRAY::abcdef|:abc|:def" {
		t.Errorf("dpMatchValue %q", v)
	}
}

func TestAst2Regex(t *testing.T) {
	for in, want := range map[string]string{"1NXXNXXXXXX": "^1[2-9][0-9][0-9][2-9][0-9][0-9][0-9][0-9][0-9][0-9]$", "9.": "^9.*$", "Zx": "^[1-9]x$"} {
		if got := ast2regex(in); got != want {
			t.Errorf("ast2regex(%q)=%q want %q", in, got, want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte(`<section name="dialplan"><context name="default"><extension name="a" continue="true"><condition field="destination_number" expression="^(\d+)$" wday="mon-fri" hour="9-17"><action application="set" data="x=$1" loop="2" inline="true"/><anti-action application="hangup"/><condition regex="xor"><regex field="x" expression="(?!a)b"/></condition></condition></extension></context></section>`))
	f.Add([]byte(`<section><context name="x"><extension><condition field="${a}" expression="_1NXX." time-of-day="22:00-06:00" date-time="2020-01-01~2030-01-01"/></extension></context></section>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := etree.NewDocument()
		doc.ReadSettings.ValidateInput = true
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		dp, _, err := Compile(doc.Root(), func(e *etree.Element) xmlconf.Pos { return xmlconf.Pos{File: "f", Line: e.Index()} })
		if err != nil {
			return
		}
		for _, ctx := range dp.Contexts() {
			ch := newFake()
			traceOf(t, dp, ch, ctx, "1000")
		}
	})
}

func TestNeedsExpand(t *testing.T) {
	for s, want := range map[string]bool{`^1000$`: false, `^(\d+)$`: false, `${x}`: true, `^\$5$`: true, `a\\b`: true, `\d\w`: false, `$`: false} {
		if got := needsExpand(s); got != want {
			t.Errorf("needsExpand(%q)=%v", s, got)
		}
	}
}

func TestTooDeepNesting(t *testing.T) {
	x := strings.Repeat("<condition>", 102) + `<action application="deep"/>` + strings.Repeat("</condition>", 102)
	doc := etree.NewDocument()
	if err := doc.ReadFromString(dpXML(`<extension name="d">` + x + `</extension><extension name="z"><condition><action application="z"/></condition></extension>`)); err != nil {
		t.Fatal(err)
	}
	dp, diags, err := Compile(doc.Root(), nil)
	if err != nil || len(diags) != 1 || !diags[0].Warning {
		t.Fatalf("diags %v err %v", diags, err)
	}
	_, route, _ := traceOf(t, dp, newFake(), "default", "1")
	if len(route) != 1 || route[0] != "Action z()" {
		t.Fatalf("route %q", route)
	}
}

func TestAttributeWhitespaceNormalized(t *testing.T) {
	dp := compileString(t, dpXML("<extension name=\"a\"><condition field=\"destination_number\" expression=\"^9170$\"><action application=\"say\" data=\"en CURRENT_TIME pronounced\n\t\t${strepoch()}\"/><action application=\"log\">INFO keep\n newline</action></condition></extension>"))
	_, route, _ := traceOf(t, dp, newFake(), "default", "9170")
	want := []string{"Action say(en CURRENT_TIME pronounced   ${strepoch()})", "Action log(INFO keep\n newline)"}
	if len(route) != 2 || route[0] != want[0] || route[1] != want[1] {
		t.Fatalf("route %q", route)
	}
}

func TestPlainVar(t *testing.T) {
	for in, want := range map[string]string{"${call_debug}": "call_debug", "${a.b-c_1}": "a.b-c_1", "${x:1:2}": "", "${api(x)}": "", "${a}${b}": "", "${aleg_x}": "", "$${g}": "", "x": "", "${}": ""} {
		if got := plainVar(in); got != want {
			t.Errorf("plainVar(%q)=%q want %q", in, got, want)
		}
	}
}
