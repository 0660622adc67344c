package dialplan

import (
	"testing"
	"time"

	"github.com/beevik/etree"
)

func specOf(t *testing.T, attrs string) *timeSpec {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<condition ` + attrs + `/>`); err != nil {
		t.Fatal(err)
	}
	return compileTime(doc.Root())
}

func TestTimeAttributes(t *testing.T) {
	// 2026-11-24 is a Tuesday (wday 3); 2026-12-25 a Friday.
	ts := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		attrs string
		at    string
		want  int
	}{
		{``, "2026-11-24 10:30:00", -1},
		{`wday="3"`, "2026-11-24 10:30:00", 1},
		{`wday="1"`, "2026-11-29 10:30:00", 1}, // Sunday is 1
		{`wday="2-6"`, "2026-11-29 10:30:00", 0},
		{`wday="mon-fri"`, "2026-11-24 10:30:00", 1},
		{`wday="Sat,SUN"`, "2026-11-29 10:30:00", 1},
		{`wday="fri-mon"`, "2026-11-29 10:30:00", 1}, // reversed range wraps
		{`wday="fri-mon"`, "2026-11-25 10:30:00", 0},
		{`wday="mon fri"`, "2026-11-24 10:30:00", 0}, // parse error
		{`hour="9-18"`, "2026-11-24 18:59:00", 1},
		{`hour="9-18"`, "2026-11-24 19:00:00", 0},
		{`hour="18-8"`, "2026-11-24 03:00:00", 1}, // outside 9..17
		{`hour="18-8"`, "2026-11-24 12:00:00", 0},
		{`hour="8,12,14-15"`, "2026-11-24 14:10:00", 1},
		{`minute="30"`, "2026-11-24 10:30:00", 1},
		{`minute-of-day="540-1080"`, "2026-11-24 09:00:00", 1}, // 9*60+0+1 = 541
		{`minute-of-day="540-1080"`, "2026-11-24 08:59:00", 1}, // 540
		{`minute-of-day="540-1080"`, "2026-11-24 08:58:00", 0},
		{`time-of-day="08:00-17:30"`, "2026-11-24 17:30:00", 1},
		{`time-of-day="08:00-17:30"`, "2026-11-24 17:30:01", 0},
		{`time-of-day="22:00-06:00:30"`, "2026-11-24 06:00:30", 1},
		{`time-of-day="22:00-06:00,12:00:00-12:00:10"`, "2026-11-24 12:00:05", 1},
		{`mon="11"`, "2026-11-24 10:30:00", 1},
		{`mday="25" mon="12"`, "2026-12-25 10:00:00", 1},
		{`mday="25" mon="12"`, "2026-11-25 10:00:00", 0},
		{`year="2025-2027"`, "2026-11-24 10:30:00", 1},
		{`yday="328"`, "2026-11-24 10:30:00", 1},
		{`week="47"`, "2026-11-24 10:30:00", 1}, // yday 327 (0-based) / 7 + 1
		{`mweek="4"`, "2026-11-24 10:30:00", 1}, // Nov 2026 starts on a Sunday
		{`mweek="5"`, "2026-11-29 10:30:00", 1},
		{`wday="5-6" mweek="4" mon="11"`, "2026-11-26 10:00:00", 1}, // thanksgiving
		{`date-time="2026-11-24 10:00~2026-11-24 11:00"`, "2026-11-24 10:30:00", 1},
		{`date-time="2026-11-24 10:00~2026-11-24 10:30"`, "2026-11-24 10:30:00", 0}, // end exclusive
		{`date-time="2026-11-24 10:30:00~2026-11-24 10:31"`, "2026-11-24 10:30:00", 1},
		{`date-time="2025-01-01 00:00~2025-12-31 23:59,2026-11-01~2026-12-01"`, "2026-11-24 10:30:00", 1},
		{`date-time="garbage~2026-12-01"`, "2026-11-24 10:30:00", 0},
		{`tz-offset="0"`, "2026-11-24 10:30:00", 1},
		{`tz-offset="-5"`, "2026-11-24 10:30:00", 0},
		{`dst="true"`, "2026-11-24 10:30:00", 0},
		{`dst=""`, "2026-11-24 10:30:00", -1},
		{`dst="false"`, "2026-11-24 10:30:00", 0}, // only dst="true" can match
		{`tz-offset=""`, "2026-11-24 10:30:00", 1},
		{`year=""`, "2026-11-24 10:30:00", 0},
		{`hour="10" minute="31"`, "2026-11-24 10:30:00", 0},
	}
	for _, tc := range cases {
		c := &clock{now: ts(tc.at), offsetH: 0}
		if got := specOf(t, tc.attrs).check(c); got != tc.want {
			t.Errorf("%s at %s: got %d want %d", tc.attrs, tc.at, got, tc.want)
		}
	}
}

func TestTimezoneVariables(t *testing.T) {
	dp := compileString(t, dpXML(`<extension name="t"><condition hour="5"><action application="open"/></condition></extension>`))
	utc := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	cases := []struct {
		vars map[string]string
		ok   bool
	}{
		{map[string]string{"tod_tz_offset": "-5"}, true},
		{map[string]string{"tod_tz_offset": "-5", "timezone": "Asia/Tokyo"}, true}, // offset wins
		{map[string]string{"tod_tz_offset": "x", "timezone": "America/New_York"}, true},
		{map[string]string{"timezone": "Asia/Tokyo"}, false},
	}
	for _, tc := range cases {
		if _, err := time.LoadLocation("America/New_York"); err != nil {
			t.Skip("no tzdata")
		}
		ch := newFake()
		ch.now = utc
		for k, v := range tc.vars {
			ch.vars[k] = v
		}
		_, route, _ := traceOf(t, dp, ch, "default", "1")
		if (len(route) == 1) != tc.ok {
			t.Errorf("%v: route %q", tc.vars, route)
		}
	}
	// dst follows the channel's zone.
	dp = compileString(t, dpXML(`<extension name="t"><condition dst="true"><action application="summer"/></condition></extension>`))
	ch := newFake()
	ch.now = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	ch.vars["timezone"] = "Europe/Berlin"
	if _, route, _ := traceOf(t, dp, ch, "default", "1"); len(route) != 1 {
		t.Errorf("dst in Berlin summer: %q", route)
	}
}

func TestNumberCmp(t *testing.T) {
	for _, tc := range []struct {
		exp  string
		val  int
		want bool
	}{
		{"1,2,3", 2, true}, {"1, 5", 5, true}, {"5-", 5, true}, {"", 0, true}, {"abc", 0, true}, {"10-12,20", 20, true}, {"10-12 ,20", 20, false},
	} {
		if got := numberCmp(tc.exp, tc.val); got != tc.want {
			t.Errorf("numberCmp(%q,%d)=%v", tc.exp, tc.val, got)
		}
	}
}

func TestPosixTimezones(t *testing.T) {
	utc := func(mo time.Month) time.Time { return time.Date(2026, mo, 15, 12, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		rule     string
		jan, jul int // offsets in seconds
	}{
		{"EST5EDT,M3.2.0,M11.1.0", -5 * 3600, -4 * 3600},
		{"CET-1CEST,M3.5.0,M10.5.0/3", 3600, 7200},
		{"IST-5:30", 19800, 19800},
		{"GMT0", 0, 0},
		{"<+03>-3", 10800, 10800},
	} {
		loc, err := posixLocation("x", tc.rule)
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		_, jan := utc(1).In(loc).Zone()
		_, jul := utc(7).In(loc).Zone()
		if jan != tc.jan || jul != tc.jul {
			t.Errorf("%s: offsets %d/%d want %d/%d", tc.rule, jan, jul, tc.jan, tc.jul)
		}
	}
	if _, err := posixLocation("x", "not a rule!"); err == nil {
		t.Error("bad rule accepted")
	}
	// The timezone variable resolves through timezones.conf first.
	dp := compileString(t, dpXML(`<extension name="t"><condition hour="7"><action application="open"/></condition></extension>`))
	dp.posix = map[string]string{"Custom/Zone": "EST5EDT,M3.2.0,M11.1.0"}
	ch := newFake()
	ch.now = time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC)
	ch.vars["timezone"] = "Custom/Zone"
	if _, route, _ := traceOf(t, dp, ch, "default", "1"); len(route) != 1 {
		t.Errorf("timezones.conf zone not used: %q", route)
	}
}
