package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

func dpXML(body string) string {
	return `<section name="dialplan"><context name="default">` + body + `</context></section>`
}

type huntCase struct {
	name  string
	xml   string // extensions of context "default"
	dest  string
	setup func(*fakeChan)
	want  []string // route lines; nil = core.ErrNoRoute
	vars  map[string]string
	trace []string // lines that must appear in the trace, in order (channel name elided as C)
}

func runHuntCases(t *testing.T, cases []huntCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dp := compileString(t, dpXML(tc.xml))
			ch := newFake()
			ch.name = "C"
			if tc.setup != nil {
				tc.setup(ch)
			}
			dest := tc.dest
			if dest == "" {
				dest = "1000"
			}
			trace, route, err := traceOf(t, dp, ch, "default", dest)
			if tc.want == nil {
				if !errors.Is(err, core.ErrNoRoute) {
					t.Fatalf("want core.ErrNoRoute, got %v %q", err, route)
				}
			} else if err != nil {
				t.Fatalf("hunt: %v\n%s", err, strings.Join(trace, "\n"))
			}
			if tc.want != nil && !reflect.DeepEqual(route, tc.want) {
				t.Errorf("route:\n got %q\nwant %q\ntrace:\n%s", route, tc.want, strings.Join(trace, "\n"))
			}
			for k, v := range tc.vars {
				if got := ch.vars[k]; got != v {
					t.Errorf("var %s = %q, want %q", k, got, v)
				}
			}
			i := 0
			for _, l := range trace {
				if i < len(tc.trace) && l == tc.trace[i] {
					i++
				}
			}
			if i < len(tc.trace) {
				t.Errorf("trace line %q not found in order; trace:\n%s", tc.trace[i], strings.Join(trace, "\n"))
			}
		})
	}
}

func TestHuntBasics(t *testing.T) {
	runHuntCases(t, []huntCase{
		{name: "document order, first match wins",
			xml: `<extension name="a"><condition field="destination_number" expression="^1000$"><action application="answer"/></condition></extension>
			      <extension name="b"><condition field="destination_number" expression="^1000$"><action application="hangup"/></condition></extension>`,
			want:  []string{"Action answer()"},
			trace: []string{"Dialplan: C parsing [default->a] continue=false", "Dialplan: C Regex (PASS) [a] destination_number(1000) =~ /^1000$/ break=on-false", "Dialplan: C Action answer()"}},
		{name: "continue accumulates",
			xml: `<extension name="a" continue="true"><condition field="destination_number" expression="^1000$"><action application="set" data="x=1"/></condition></extension>
			      <extension name="b"><condition field="destination_number" expression="^1000$"><action application="hangup"/></condition></extension>`,
			want:  []string{"Action set(x=1)", "Action hangup()"},
			trace: []string{"Dialplan: C parsing [default->a] continue=true"}},
		{name: "no match is NO_ROUTE",
			xml:  `<extension name="a"><condition field="destination_number" expression="^2000$"><action application="answer"/></condition></extension>`,
			want: nil},
		{name: "QUIRK continue extension makes unmatched number routable",
			xml: `<extension name="g" continue="true"><condition><action application="set" data="x=1"/></condition></extension>
			      <extension name="a"><condition field="destination_number" expression="^2000$"><action application="answer"/></condition></extension>`,
			want:  []string{"Action set(x=1)"},
			trace: []string{"Dialplan: C Absolute Condition [g]"}},
		{name: "unnamed extension",
			xml:   `<extension><condition><action application="answer"/></condition></extension>`,
			want:  []string{"Action answer()"},
			trace: []string{"Dialplan: C parsing [default->UNKNOWN] continue=false", "Dialplan: C Absolute Condition [UNKNOWN]"}},
		{name: "field names are case-insensitive caller profile fields",
			xml:  `<extension name="a"><condition field="Caller_ID_Number" expression="^1000$"><action application="answer"/></condition></extension>`,
			want: []string{"Action answer()"}},
		{name: "template field",
			xml:   `<extension name="a"><condition field="${toll_allow}" expression="local"><action application="answer"/></condition></extension>`,
			setup: func(c *fakeChan) { c.vars["toll_allow"] = "domestic,local" },
			want:  []string{"Action answer()"},
			trace: []string{"Dialplan: C Regex (PASS) [a] ${toll_allow}(domestic,local) =~ /local/ break=on-false"}},
		{name: "missing field is empty",
			xml:  `<extension name="a"><condition field="rdnis" expression="^$"><action application="answer"/></condition></extension>`,
			want: []string{"Action answer()"}},
		{name: "expression child with CDATA and ${} expanded at hunt time",
			xml: `<extension name="a"><condition field="${sip_refer_to}"><expression><![CDATA[<sip:callpark@${domain_name};orbit=(\d+)>]]></expression>
			      <action application="fifo" data="$1@${domain_name} in"/></condition></extension>`,
			setup: func(c *fakeChan) {
				c.vars["sip_refer_to"] = "<sip:callpark@example.com;orbit=42>"
				c.globals["domain_name"] = "example.com"
			},
			want:  []string{"Action fifo(42@${domain_name} in)"},
			trace: []string{"Dialplan: C Regex (PASS) [a] ${sip_refer_to}(<sip:callpark@example.com;orbit=42>) =~ /<sip:callpark@example.com;orbit=(\\d+)>/ break=on-false"}},
		{name: "action data from element text",
			xml:  `<extension name="a"><condition><action application="log">INFO hello</action></condition></extension>`,
			want: []string{"Action log(INFO hello)"}},
		{name: "loop repeats",
			xml:  `<extension name="a"><condition><action application="playback" data="beep" loop="3"/></condition></extension>`,
			want: []string{"Action playback(beep)", "Action playback(beep)", "Action playback(beep)"}},
		{name: "auto_hunt starts at the extension named like the destination",
			xml: `<extension name="first"><condition><action application="hangup"/></condition></extension>
			      <extension name="1000"><condition><action application="answer"/></condition></extension>`,
			setup: func(c *fakeChan) { c.vars["auto_hunt"] = "true" },
			want:  []string{"Action answer()"}},
	})
}

func TestHuntCaptures(t *testing.T) {
	runHuntCases(t, []huntCase{
		{name: "$1 and ${1}, ${var} untouched",
			xml:  `<extension name="a"><condition field="destination_number" expression="^(10)(\d\d)$"><action application="bridge" data="user/$1${2}@${domain_name} $3 $ $x"/></condition></extension>`,
			want: []string{"Action bridge(user/1000@${domain_name}  $ $x)"},
			vars: map[string]string{"DP_MATCH": "ARRAY::1000|:10|:00"}},
		{name: "unset alternative group is empty",
			xml:  `<extension name="e"><condition field="destination_number" expression="^88(\d{4})$|^\*0(.*)$"><action application="eavesdrop" data="spy/$1$2"/></condition></extension>`,
			dest: "*0abc",
			want: []string{"Action eavesdrop(spy/abc)"},
			vars: map[string]string{"DP_MATCH": "ARRAY::*0abc|:abc"}},
		{name: "no parenthesis: no substitution",
			xml:  `<extension name="a"><condition field="destination_number" expression="^1000$"><action application="set" data="x=$1"/></condition></extension>`,
			want: []string{"Action set(x=$1)"}},
		{name: "anti-actions get no substitution and count as a match",
			xml: `<extension name="a"><condition field="destination_number" expression="^(2000)$"><action application="set" data="x=$1"/><anti-action application="set" data="y=$1"/></condition></extension>
			      <extension name="b"><condition><action application="hangup"/></condition></extension>`,
			want:  []string{"ANTI-Action set(y=$1)"},
			trace: []string{"Dialplan: C Regex (FAIL) [a] destination_number(1000) =~ /^(2000)$/ break=on-false", "Dialplan: C ANTI-Action set(y=$1)"}},
		{name: "asterisk pattern",
			xml:  `<extension name="a"><condition field="destination_number" expression="_1NXXNXXXXXX"><action application="answer"/></condition></extension>`,
			dest: "12125551234",
			want: []string{"Action answer()"}},
		{name: "asterisk pattern dot",
			xml:  `<extension name="a"><condition field="destination_number" expression="_9."><action application="answer"/></condition></extension>`,
			dest: "9123",
			want: []string{"Action answer()"}},
		{name: "slash form with i flag",
			xml:  `<extension name="a"><condition field="destination_number" expression="/^VMAIN$/i"><action application="answer"/></condition></extension>`,
			dest: "vmain",
			want: []string{"Action answer()"}},
		{name: "PCRE lookahead (vanilla valet_park)",
			xml:  `<extension name="v"><condition field="destination_number" expression="^((?!6000)60\d{2})$"><action application="valet_park" data="lot $1"/></condition></extension>`,
			dest: "6001",
			want: []string{"Action valet_park(lot 6001)"}},
		{name: "PCRE lookahead rejects",
			xml:  `<extension name="v"><condition field="destination_number" expression="^((?!6000)60\d{2})$"><action application="valet_park" data="lot $1"/></condition></extension>`,
			dest: "6000",
			want: nil},
		{name: "backreference",
			xml:  `<extension name="v"><condition field="destination_number" expression="^(\d)\1$"><action application="answer" data="$1"/></condition></extension>`,
			dest: "77",
			want: []string{"Action answer(7)"}},
	})
}

func TestHuntBreak(t *testing.T) {
	two := func(brk, first string) string {
		return `<extension name="a"><condition field="destination_number" expression="` + first + `"` + brk + `><action application="one"/></condition>
		<condition><action application="two"/></condition></extension>`
	}
	runHuntCases(t, []huntCase{
		{name: "on-false default stops on failure", xml: two("", "^2000$"), want: nil},
		{name: "on-false passes through", xml: two("", "^1000$"), want: []string{"Action one()", "Action two()"}},
		{name: "on-true stops on success", xml: two(` break="on-true"`, "^1000$"), want: []string{"Action one()"},
			trace: []string{"Dialplan: C Regex (PASS) [a] destination_number(1000) =~ /^1000$/ break=on-true"}},
		{name: "on-true continues on failure", xml: two(` break="on-true"`, "^2000$"), want: []string{"Action two()"}},
		{name: "always stops", xml: two(` break="always"`, "^1000$"), want: []string{"Action one()"}},
		{name: "never continues", xml: two(` break="never"`, "^2000$"), want: []string{"Action two()"}},
		{name: "bogus break is on-false", xml: two(` break="sometimes"`, "^2000$"), want: nil,
			trace: []string{"Dialplan: C Regex (FAIL) [a] destination_number(1000) =~ /^2000$/ break=on-false"}},
		{name: "QUIRK earlier actions stay queued when a later condition fails",
			xml: `<extension name="a"><condition field="destination_number" expression="^1000$"><action application="set" data="x=1"/></condition>
			      <condition field="caller_id_number" expression="^9999$"><action application="answer"/></condition></extension>
			      <extension name="b"><condition><action application="hangup"/></condition></extension>`,
			want: []string{"Action set(x=1)", "Action hangup()"}},
		{name: "vanilla global: never conditions then a failing on-false",
			xml: `<extension name="global" continue="true">
			<condition field="${call_debug}" expression="^true$" break="never"><action application="info"/></condition>
			<condition field="${default_password}" expression="^1234$" break="never"><action application="sleep" data="10000"/></condition>
			<condition field="${endpoint_disposition}" expression="^(DELAYED NEGOTIATION)"/>
			<condition><action application="hash" data="insert"/></condition></extension>`,
			setup: func(c *fakeChan) { c.globals["default_password"] = "1234" },
			want:  []string{"Action sleep(10000)"}},
	})
}

func TestHuntAnyAllXor(t *testing.T) {
	cond := func(mode string) string {
		return `<extension name="r"><condition regex="` + mode + `">
		<regex field="caller_id_number" expression="^(1\d+)$"/>
		<regex field="destination_number" expression="^(5\d+)$"/>
		<regex field="network_addr" expression="^(10)\."/>
		<action application="log" data="$1"/><anti-action application="hangup"/></condition></extension>`
	}
	runHuntCases(t, []huntCase{
		{name: "any passes at first match", xml: cond("any"), want: []string{"Action log(1000)"},
			vars:  map[string]string{"DP_REGEX_MATCH_1": "ARRAY::1000|:1000"},
			trace: []string{"Dialplan: C Regex (PASS) [r] caller_id_number(1000) =~ /^(1\\d+)$/ match=any"}},
		{name: "all fails on one failure", xml: cond("all"), want: []string{"ANTI-Action hangup()"},
			trace: []string{"Dialplan: C Regex (FAIL) [r] destination_number(1000) =~ /^(5\\d+)$/ match=all"}},
		{name: "all passes", xml: cond("all"), dest: "5000", want: []string{"Action log(10)"},
			vars: map[string]string{"DP_REGEX_MATCH_2": "ARRAY::5000|:5000", "DP_REGEX_MATCH_3": "ARRAY::10.|:10", "DP_MATCH": "ARRAY::10.|:10"}},
		{name: "xor fails with two matches", xml: cond("xor"), want: []string{"ANTI-Action hangup()"}},
		{name: "xor passes with exactly one", xml: cond("xor"), setup: func(c *fakeChan) { c.fields["network_addr"] = "192.168.1.1" },
			want: []string{"Action log()"}}, // $N come from the last capturing regex evaluated (which failed)
		{name: "regex without field is absolute", xml: `<extension name="r"><condition regex="all"><regex/><action application="answer"/></condition></extension>`,
			want: []string{"Action answer()"}, trace: []string{"Dialplan: C Absolute Condition [r] match=all"}},
		{name: "old DP_REGEX_MATCH cleared", xml: cond("any"), setup: func(c *fakeChan) { c.vars["DP_REGEX_MATCH_3"] = "stale" },
			vars: map[string]string{"DP_REGEX_MATCH_3": ""}, want: []string{"Action log(1000)"}},
	})
}

func TestHuntNested(t *testing.T) {
	runHuntCases(t, []huntCase{
		{name: "nested conditions run after a pass",
			xml: `<extension name="n"><condition field="destination_number" expression="^1000$"><action application="a1"/>
			<condition field="caller_id_number" expression="^1000$"><action application="a2"/></condition></condition></extension>`,
			want: []string{"Action a1()", "Action a2()"},
			trace: []string{"|--- Dialplan: Processing recursive conditions level:1 [n_recur_1] require-nested=TRUE",
				"|--- Dialplan: C Regex (PASS) [n_recur_1] caller_id_number(1000) =~ /^1000$/ break=on-false",
				"|--- Dialplan: C Action a2()"}},
		{name: "failing nested fails the extension",
			xml: `<extension name="n"><condition field="destination_number" expression="^1000$"><action application="a1"/>
			<condition field="caller_id_number" expression="^2$"><action application="a2"/></condition></condition></extension>
			<extension name="z"><condition><action application="z"/></condition></extension>`,
			want: []string{"Action a1()", "Action z()"}},
		{name: "require-nested=false ignores the nested result",
			xml: `<extension name="n"><condition field="destination_number" expression="^1000$" require-nested="false"><action application="a1"/>
			<condition field="caller_id_number" expression="^2$"><action application="a2"/></condition></condition></extension>
			<extension name="z"><condition><action application="z"/></condition></extension>`,
			want:  []string{"Action a1()"},
			trace: []string{"|--- Dialplan: Processing recursive conditions level:1 [n_recur_1] require-nested=FALSE"}},
		{name: "break=never continues past a failed nested block",
			xml: `<extension name="n"><condition field="destination_number" expression="^1000$" break="never">
			<condition field="caller_id_number" expression="^2$"><action application="a2"/></condition></condition>
			<condition><action application="a3"/></condition></extension>`,
			want: []string{"Action a3()"}},
		{name: "two levels",
			xml:   `<extension name="n"><condition><condition><condition><action application="deep"/></condition></condition></condition></extension>`,
			want:  []string{"Action deep()"},
			trace: []string{"|------- Dialplan: C Absolute Condition [n_recur_2]"}},
	})
}

func TestHuntInline(t *testing.T) {
	runHuntCases(t, []huntCase{
		{name: "inline set runs during the hunt and feeds later conditions",
			xml: `<extension name="i" continue="true"><condition><action application="set" data="who=boss" inline="true"/></condition></extension>
			<extension name="j"><condition field="${who}" expression="^boss$"><action application="answer"/></condition></extension>`,
			want:  []string{"Action answer()"},
			trace: []string{"Dialplan: C Action set(who=boss) INLINE"}},
		{name: "inline with captures",
			xml:  `<extension name="i"><condition field="destination_number" expression="^(\d+)$"><action application="set" data="d=$1" inline="true"/><action application="answer"/></condition></extension>`,
			want: []string{"Action answer()"}, vars: map[string]string{"d": "1000"}},
		{name: "inline anti-action",
			xml:  `<extension name="i"><condition field="destination_number" expression="^2$"><anti-action application="set" data="a=1" inline="true"/><anti-action application="hangup"/></condition></extension>`,
			want: []string{"ANTI-Action hangup()"}, vars: map[string]string{"a": "1"}, trace: []string{"Dialplan: C ANTI-Action set(a=1) INLINE"}},
		{name: "not inline-capable is skipped",
			xml:  `<extension name="i"><condition><action application="hash" data="insert/a/b/c" inline="true"/><action application="answer"/></condition></extension>`,
			want: []string{"Action answer()"}},
	})
}

func TestHuntInlineErrorLogged(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="i"><condition><action application="hash" data="x" inline="true"/></condition></extension>`))
	var errs []string
	_, err := dp.Hunt(context.Background(), newFake(), Hunt{Dest: "1", Trace: func(l slog.Level, line string) {
		if l == slog.LevelError {
			errs = append(errs, line)
		}
	}})
	if !errors.Is(err, core.ErrNoRoute) || len(errs) != 1 || errs[0] != "This application cannot be executed inline" {
		t.Fatalf("err=%v errs=%q", err, errs)
	}
}

func TestHuntInlineUnknownAppHangsUp(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="i"><condition><action application="nosuch" data="x" inline="true"/><action application="answer"/></condition></extension>`))
	ch := newFake()
	var errs []string
	r, err := dp.Hunt(context.Background(), ch, Hunt{Dest: "1", Trace: func(l slog.Level, line string) {
		if l == slog.LevelError {
			errs = append(errs, line)
		}
	}})
	if err != nil || len(r.Actions) != 1 || ch.hungup != core.CauseDestinationOutOfOrder || len(errs) != 1 || errs[0] != "Invalid Application nosuch" {
		t.Fatalf("route %v err %v hungup %v errs %q", r, err, ch.hungup, errs)
	}
}

func TestHuntContexts(t *testing.T) {
	x := `<section name="dialplan">
	<context name="global"><extension name="g"><condition><action application="global"/></condition></extension></context>
	<context name="Public"><extension name="p"><condition><action application="public"/></condition></extension></context>
	</section>`
	dp := compileString(t, x)
	for ctxName, want := range map[string]string{"public": "Action public()", "PUBLIC": "Action public()", "nowhere": "Action global()", "": "Action global()"} {
		_, route, err := traceOf(t, dp, newFake(), ctxName, "1")
		if err != nil || len(route) != 1 || route[0] != want {
			t.Errorf("context %q: %v %q, want %q", ctxName, err, route, want)
		}
	}
	dp = compileString(t, dpXML(""))
	var warn string
	_, err := dp.Hunt(context.Background(), newFake(), Hunt{Context: "nowhere", Dest: "1", Trace: func(l slog.Level, line string) {
		if l == slog.LevelWarn {
			warn = line
		}
	}})
	if !errors.Is(err, core.ErrNoRoute) || warn != "Context nowhere not found" {
		t.Fatalf("err=%v warn=%q", err, warn)
	}
}

func TestHuntInfoLine(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="a"><condition><action application="answer"/></condition></extension>`))
	var info string
	dp.Hunt(context.Background(), newFake(), Hunt{Dest: "5000", Trace: func(l slog.Level, line string) {
		if l == slog.LevelInfo {
			info = line
		}
	}})
	if info != "Processing Alice <1000>->5000 in context default" {
		t.Fatalf("info line %q", info)
	}
}

func TestHuntCancelled(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="a"><condition><action application="answer"/></condition></extension>`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dp.Hunt(ctx, newFake(), Hunt{Dest: "1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v", err)
	}
}

func TestHuntTimeQuirks(t *testing.T) {
	at := func(ts string) func(*fakeChan) {
		return func(c *fakeChan) {
			tm, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				panic(err)
			}
			c.now = tm
			c.vars["tod_tz_offset"] = "0"
		}
	}
	runHuntCases(t, []huntCase{
		{name: "QUIRK time pass + field fail still runs the actions (and does not match)",
			xml: `<extension name="t"><condition hour="10" field="destination_number" expression="^(2000)$"><action application="x" data="[$1]"/></condition></extension>
			<extension name="z"><condition><action application="z"/></condition></extension>`,
			setup: at("2026-11-24T10:30:00Z"),
			want:  []string{"Action x([])", "Action z()"},
			trace: []string{"Dialplan: C Date/Time Match (PASS) [t] break=on-false", "Dialplan: C Regex (FAIL) [t] destination_number(1000) =~ /^(2000)$/ break=on-false"}},
		{name: "QUIRK time fail + field pass runs the actions",
			xml:   `<extension name="t"><condition hour="11" field="destination_number" expression="^1000$"><action application="x"/></condition></extension>`,
			setup: at("2026-11-24T10:30:00Z"),
			want:  []string{"Action x()"},
			trace: []string{"Dialplan: C Date/TimeMatch (FAIL) [t] break=on-false"}},
	})
}
