package dialplan

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// timezonesConf reads timezones.conf (<timezones><zone name="America/New_York"
// value="EST5EDT,M3.2.0,M11.1.0"/>...), the table FreeSWITCH resolves the
// `timezone` channel variable with.
func timezonesConf(cfg *etree.Element) map[string]string {
	if cfg == nil {
		return nil
	}
	m := map[string]string{}
	for _, list := range cfg.SelectElements("timezones") {
		for _, z := range list.SelectElements("zone") {
			name, value := z.SelectAttrValue("name", ""), z.SelectAttrValue("value", "")
			if name != "" && value != "" {
				m[name] = value
			}
		}
	}
	return m
}

// posixLocation builds a *time.Location from a POSIX TZ string such as
// "EST5EDT,M3.2.0,M11.1.0". The standard library reads POSIX rules only as
// the footer of a TZif file, so we hand it a minimal TZif v2 file: no
// transitions, one placeholder type and the rule as footer, which then
// governs every instant.
func posixLocation(name, tz string) (*time.Location, error) {
	if tz == "" || strings.ContainsAny(tz, "\n\x00") {
		return nil, errBadTZ
	}
	header := func(b []byte) []byte {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		// isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
		for _, n := range []uint32{0, 0, 0, 0, 1, 4} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
		// one ttinfo: utoff 0, isdst 0, abbrind 0; then the abbreviations
		b = append(b, 0, 0, 0, 0, 0, 0)
		return append(b, "UTC\x00"...)
	}
	data := header(nil) // version 1 block
	data = header(data) // version 2 block (same layout: no transitions)
	data = append(data, '\n')
	data = append(data, tz...)
	data = append(data, '\n')
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, err
	}
	// A rule Go cannot parse silently leaves the placeholder (UTC) in force;
	// accept the zone only if the rule is honoured for a known instant or
	// the rule itself says UTC+0.
	if _, off := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone(); off == 0 {
		if _, off7 := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone(); off7 == 0 && !zeroOffsetRule(tz) {
			return nil, errBadTZ
		}
	}
	return loc, nil
}

// zeroOffsetRule reports whether a POSIX rule's standard offset is zero
// ("GMT0", "UTC", "WET0WEST,...").
func zeroOffsetRule(tz string) bool {
	i := 0
	if strings.HasPrefix(tz, "<") {
		if j := strings.IndexByte(tz, '>'); j > 0 {
			i = j + 1
		}
	} else {
		for i < len(tz) && (tz[i] >= 'A' && tz[i] <= 'Z' || tz[i] >= 'a' && tz[i] <= 'z') {
			i++
		}
	}
	rest := strings.TrimLeft(tz[i:], "+-")
	return rest == "" || rest[0] == '0' && (len(rest) == 1 || rest[1] < '0' || rest[1] > '9')
}

type tzError string

func (e tzError) Error() string { return string(e) }

const errBadTZ = tzError("dialplan: unusable POSIX timezone rule")
