package dialplan

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// timeSpec holds the time-of-day attributes of a <condition> or <regex>
// (switch_xml_std_datetime_check). The values stay as written: FreeSWITCH
// parses them on every check with strtol-like rules, and so do we, so odd
// values ("9-18, 20", "18-8", "mon-fri") behave exactly the same.
type timeSpec struct {
	dateTime, year, yday, mon, mday, week, mweek, wday, hour, minute, minDay, tod string
	has                                                                           uint16 // bit per attribute present
	tzOffset                                                                      string
	hasTZOffset                                                                   bool
	dst                                                                           int // -1000 unset, 0 false, 1 true
}

const (
	hasDateTime = 1 << iota
	hasYear
	hasYday
	hasMon
	hasMday
	hasWeek
	hasMweek
	hasWday
	hasHour
	hasMinute
	hasMinDay
	hasTOD
)

func compileTime(e *etree.Element) *timeSpec {
	t := &timeSpec{dst: -1000}
	any := false
	set := func(name string, dst *string, bit uint16) {
		if a := attr(e, name); a != nil {
			*dst = a.Value
			t.has |= bit
			any = true
		}
	}
	set("date-time", &t.dateTime, hasDateTime)
	set("year", &t.year, hasYear)
	set("yday", &t.yday, hasYday)
	set("mon", &t.mon, hasMon)
	set("mday", &t.mday, hasMday)
	set("week", &t.week, hasWeek)
	set("mweek", &t.mweek, hasMweek)
	set("wday", &t.wday, hasWday)
	set("hour", &t.hour, hasHour)
	set("minute", &t.minute, hasMinute)
	set("minute-of-day", &t.minDay, hasMinDay)
	set("time-of-day", &t.tod, hasTOD)
	if a := attr(e, "tz-offset"); a != nil {
		t.tzOffset, t.hasTZOffset, any = a.Value, true, true
	}
	// An empty dst="" runs no check in FreeSWITCH (the condition is then
	// not time-based at all).
	if a := attr(e, "dst"); a != nil && a.Value != "" {
		any = true
		t.dst = 0
		if switchTrue(a.Value) {
			t.dst = 1
		}
	}
	if !any {
		return nil
	}
	return t
}

// clock is the moment a condition is checked and the zone it is read in.
type clock struct {
	now      time.Time // already in the effective location
	offsetH  int       // effective UTC offset in whole hours (tod_tz_offset or the zone's)
	fixedOff bool      // tod_tz_offset given
}

// check returns -1 when t is nil (no time attributes), else 1 or 0.
func (t *timeSpec) check(c *clock) int {
	if t == nil {
		return -1
	}
	tm := c.now
	if t.hasTZOffset {
		loff := c.offsetH
		if isNumber(t.tzOffset) {
			loff = atoi(t.tzOffset)
		}
		if loff != c.offsetH {
			return 0
		}
	}
	// FreeSWITCH tests dst against the server's local clock even when the
	// channel has a timezone (tm2 in switch_xml_std_datetime_check). We read
	// it in the channel's zone instead: same answer when no timezone is set,
	// and the only meaningful one when it is. With tod_tz_offset there is no
	// DST information, so dst="true" fails.
	if t.dst > -1 {
		if !(tm.IsDST() && !c.fixedOff && t.dst > 0) {
			return 0
		}
	}
	if t.has&hasDateTime != 0 && !fulldateCmp(t.dateTime, tm) {
		return 0
	}
	if t.has&hasYear != 0 && !numberCmp(t.year, tm.Year()) {
		return 0
	}
	if t.has&hasYday != 0 && !numberCmp(t.yday, tm.YearDay()) {
		return 0
	}
	if t.has&hasMon != 0 && !numberCmp(t.mon, int(tm.Month())) {
		return 0
	}
	if t.has&hasMday != 0 && !numberCmp(t.mday, tm.Day()) {
		return 0
	}
	if t.has&hasWeek != 0 && !numberCmp(t.week, (tm.YearDay()-1)/7+1) {
		return 0
	}
	if t.has&hasMweek != 0 {
		mday, wday := tm.Day(), int(tm.Weekday())
		firstdow := (7 - (mday-(wday+1))%7) % 7
		test := int(math.Ceil(float64(mday+firstdow) / 7.0))
		if !numberCmp(t.mweek, test) {
			return 0
		}
	}
	if t.has&hasWday != 0 && !dowCmp(t.wday, int(tm.Weekday())+1) {
		return 0
	}
	if t.has&hasHour != 0 && !numberCmp(t.hour, tm.Hour()) {
		return 0
	}
	if t.has&hasMinute != 0 && !numberCmp(t.minute, tm.Minute()) {
		return 0
	}
	if t.has&hasMinDay != 0 && !numberCmp(t.minDay, tm.Hour()*60+tm.Minute()+1) {
		return 0
	}
	if t.has&hasTOD != 0 && !todCmp(t.tod, tm.Hour()*3600+tm.Minute()*60+tm.Second()) {
		return 0
	}
	return 1
}

func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// strtol parses like C strtol(s+i, &end, 10): leading blanks, optional sign,
// digits. With no digits it returns 0 and does not move.
func strtol(s string, i int) (int, int) {
	j := i
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	neg := false
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		neg = s[j] == '-'
		j++
	}
	start := j
	v := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if v < 1e9 {
			v = v*10 + int(s[j]-'0')
		}
		j++
	}
	if j == start {
		return 0, i
	}
	if neg {
		v = -v
	}
	return v, j
}

func atoi(s string) int { v, _ := strtol(s, 0); return v }

// isNumber is switch_is_number: optional sign, digits and dots only.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// numberCmp is switch_number_cmp: "a,b,c-d"; a reversed range "18-8" wraps.
func numberCmp(exp string, val int) bool {
	i := 0
	for {
		var a int
		a, i = strtol(exp, i)
		if i >= len(exp) || exp[i] != '-' {
			if a == val {
				return true
			}
		} else {
			var b int
			b, i = strtol(exp, i+1)
			if a <= b {
				if val >= a && val <= b {
					return true
				}
			} else if val >= a || val <= b {
				return true
			}
		}
		if i >= len(exp) || exp[i] != ',' {
			return false
		}
		i++
	}
}

var dowNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

const (
	dowErr    = -2
	dowEOF    = -1
	dowHyphen = '-'
	dowComma  = ','
)

func dowToken(s string, i int) (int, int) {
	if i >= len(s) {
		return dowEOF, i
	}
	switch c := s[i]; {
	case c == '-':
		return dowHyphen, i + 1
	case c == ',':
		return dowComma, i + 1
	case c >= '1' && c <= '7':
		return int(c - '0'), i + 1
	}
	if i+3 <= len(s) {
		for x, n := range dowNames {
			if strings.EqualFold(s[i:i+3], n) {
				return x + 1, i + 3
			}
		}
	}
	return dowErr, i
}

// dowCmp is switch_dow_cmp: 1=Sunday .. 7=Saturday, or sun..sat (first three
// letters, any case), lists and ranges; a reversed range wraps.
func dowCmp(exp string, val int) bool {
	prev, rangeStart := dowEOF, dowEOF
	i := 0
	for {
		var cur int
		cur, i = dowToken(exp, i)
		switch {
		case cur == dowEOF || cur == dowErr:
			return false
		case cur == dowComma:
			cur = dowEOF
		case cur == dowHyphen:
			rangeStart = prev
		default:
			if rangeStart != dowEOF {
				if rangeStart <= cur {
					if val >= rangeStart && val <= cur {
						return true
					}
				} else if val >= rangeStart || val <= cur {
					return true
				}
				rangeStart = dowEOF
			} else if val == cur {
				return true
			}
		}
		prev = cur
	}
}

// todCmp is switch_tod_cmp: "HH:MM[:SS]-HH:MM[:SS]" list, seconds since
// midnight, both ends inclusive, wrapping past midnight.
func todCmp(exp string, val int) bool {
	for _, item := range strings.Split(exp, ",") {
		i := strings.IndexByte(item, ':')
		if i < 0 {
			continue
		}
		minh, rest := item[:i], item[i+1:]
		j := strings.IndexByte(rest, '-')
		if j < 0 {
			continue
		}
		maxPart := rest[j+1:]
		k := strings.IndexByte(maxPart, ':')
		if k < 0 {
			continue
		}
		minm, maxh, maxm := rest[:j], maxPart[:k], maxPart[k+1:]
		mins, maxs := "00", "00"
		if p := strings.IndexByte(minm, ':'); p >= 0 {
			minm, mins = minm[:p], minm[p+1:]
		}
		if p := strings.IndexByte(maxm, ':'); p >= 0 {
			maxm, maxs = maxm[:p], maxm[p+1:]
		}
		start := atoi(minh)*3600 + atoi(minm)*60 + atoi(mins)
		end := atoi(maxh)*3600 + atoi(maxm)*60 + atoi(maxs)
		if start <= end {
			if val >= start && val <= end {
				return true
			}
		} else if val >= start || val <= end {
			return true
		}
	}
	return false
}

var (
	strTimeDate    = regexp.MustCompile(`^(\d+)-(\d+)-(\d+)\s*(\d*):?(\d*):?(\d*)`)
	strTimeCompact = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})`)
	strTimeOnly    = regexp.MustCompile(`^(\d*):?(\d*):?(\d*)$`)
)

// strTime is switch_str_time: "YYYY-MM-DD[ HH[:MM[:SS]]]", "YYYYMMDDHHMMSS"
// or a bare "HH[:MM[:SS]]" meaning today, read in now's location. FreeSWITCH
// reads it in the server's zone; we use the channel's (identical when no
// timezone variable is set).
func strTime(in string, now time.Time) (time.Time, bool) {
	if m := strTimeOnly.FindStringSubmatch(in); m != nil {
		y, mo, d := now.Date()
		return time.Date(y, mo, d, atoi(m[1]), atoi(m[2]), atoi(m[3]), 0, now.Location()), true
	}
	m := strTimeDate.FindStringSubmatch(in)
	if m == nil {
		m = strTimeCompact.FindStringSubmatch(in)
	}
	if m == nil {
		return time.Time{}, false
	}
	t := time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), 0, now.Location())
	return t, !t.IsZero()
}

// fulldateCmp is switch_fulldate_cmp: "start~end" list, start inclusive,
// end exclusive; a parse error stops the scan.
func fulldateCmp(exp string, now time.Time) bool {
	for _, item := range strings.Split(exp, ",") {
		s, e, ok := strings.Cut(item, "~")
		if !ok {
			continue
		}
		ts, ok1 := strTime(s, now)
		te, ok2 := strTime(e, now)
		if !ok1 || !ok2 {
			return false
		}
		if !ts.After(now) && te.After(now) {
			return true
		}
	}
	return false
}

// switchTrue is switch_true.
func switchTrue(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "on", "true", "t", "enabled", "active", "allow":
		return true
	}
	if isNumber(s) {
		n, err := strconv.ParseFloat(s, 64)
		return err == nil && int(n) != 0
	}
	return false
}
