package playback

import (
	"reflect"
	"testing"
	"time"
)

func TestSeparateString(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want []string
	}{
		{"1 4 3 5000 # file.wav", 0, []string{"1", "4", "3", "5000", "#", "file.wav"}},
		{"a   b  c", 0, []string{"a", "b", "c"}},
		{"a b c d", 2, []string{"a", "b c d"}},
		{"1 2 'tone_stream://%(100,0,440);%(100,0,480)' x", 0, []string{"1", "2", "tone_stream://%(100,0,440);%(100,0,480)", "x"}},
		{`a\ b c`, 0, []string{"a b", "c"}},
		{"1 2 3 4 5 6 7 8 9 10 'fail XML default'", 11, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "fail XML default"}},
		{"", 3, nil},
		{`pin ^12\d\d$ x\sy`, 0, []string{"pin", `^12\d\d$`, "x y"}},
		{"  lead", 3, []string{"lead"}},
	}
	for _, tt := range tests {
		if got := SeparateString(tt.in, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SeparateString(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestSayFiles(t *testing.T) {
	noon := time.Date(2026, 3, 5, 14, 7, 0, 0, time.UTC) // Thursday
	tests := []struct {
		typ, method, text string
		want              []string
	}{
		{"NUMBER", "pronounced", "0", []string{"digits/0.wav"}},
		{"number", "pronounced", "15", []string{"digits/15.wav"}},
		{"NUMBER", "pronounced", "42", []string{"digits/40.wav", "digits/2.wav"}},
		{"NUMBER", "pronounced", "100", []string{"digits/1.wav", "digits/hundred.wav"}},
		{"NUMBER", "pronounced", "1234", []string{"digits/1.wav", "digits/thousand.wav", "digits/2.wav", "digits/hundred.wav", "digits/30.wav", "digits/4.wav"}},
		{"NUMBER", "pronounced", "2000000", []string{"digits/2.wav", "digits/million.wav"}},
		{"NUMBER", "pronounced", "-3", []string{"digits/minus.wav", "digits/3.wav"}},
		{"NUMBER", "iterated", "1203", []string{"digits/1.wav", "digits/2.wav", "digits/0.wav", "digits/3.wav"}},
		{"ITEMS", "pronounced", "3", []string{"digits/3.wav"}},
		{"NUMBER", "counted", "1", []string{"digits/h-1.wav"}},
		{"NUMBER", "counted", "23", []string{"digits/20.wav", "digits/h-3.wav"}},
		{"NUMBER", "counted", "30", []string{"digits/h-30.wav"}},
		{"TELEPHONE_NUMBER", "pronounced", "555-1200", []string{"digits/5.wav", "digits/5.wav", "digits/5.wav", "digits/1.wav", "digits/2.wav", "digits/0.wav", "digits/0.wav"}},
		{"NAME_SPELLED", "pronounced", "Ab1*#", []string{"ascii/97.wav", "ascii/98.wav", "digits/1.wav", "ascii/42.wav", "ascii/35.wav"}},
		{"name_phonetic", "pronounced", "#", []string{"phonetic-ascii/35.wav"}},
		{"CURRENT_TIME", "pronounced", "", []string{"digits/2.wav", "digits/oh.wav", "digits/7.wav", "time/p-m.wav"}},
		{"CURRENT_DATE", "pronounced", "", []string{"time/day-4.wav", "time/mon-2.wav", "digits/h-5.wav", "digits/20.wav", "digits/20.wav", "digits/6.wav"}},
		{"CURRENT_DATE_TIME", "pronounced", "", []string{"time/day-4.wav", "time/mon-2.wav", "digits/h-5.wav", "digits/20.wav", "digits/20.wav", "digits/6.wav", "digits/2.wav", "digits/oh.wav", "digits/7.wav", "time/p-m.wav"}},
		{"TIME_MEASUREMENT", "pronounced", "3725", []string{"digits/1.wav", "time/hour.wav", "digits/2.wav", "time/minutes.wav", "digits/5.wav", "time/seconds.wav"}},
		{"IP_ADDRESS", "iterated", "10.0.1", []string{"digits/1.wav", "digits/0.wav", "digits/dot.wav", "digits/0.wav", "digits/dot.wav", "digits/1.wav"}},
	}
	for _, tt := range tests {
		got, err := SayFiles(tt.typ, tt.method, tt.text, noon, time.UTC)
		if err != nil {
			t.Errorf("SayFiles(%s %s %q): %v", tt.typ, tt.method, tt.text, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SayFiles(%s %s %q) = %q, want %q", tt.typ, tt.method, tt.text, got, tt.want)
		}
	}
	if _, err := SayFiles("CURRENCY_WEIRD", "pronounced", "1", noon, time.UTC); err == nil {
		t.Error("unknown say type accepted")
	}
	// SHORT_DATE_TIME: today -> time only; earlier this week -> weekday + time.
	today, _ := SayFiles("SHORT_DATE_TIME", "", "1772719620", time.Unix(1772719620, 0).Add(time.Hour), time.UTC)
	if len(today) == 0 || today[0] == "time/day-4.wav" {
		t.Errorf("SHORT_DATE_TIME today = %q", today)
	}
	week, _ := SayFiles("SHORT_DATE_TIME", "", "1772719620", time.Unix(1772719620, 0).Add(48*time.Hour), time.UTC)
	if len(week) == 0 || week[0] != "time/day-4.wav" || len(week) > 6 {
		t.Errorf("SHORT_DATE_TIME two days ago = %q", week)
	}
}

func TestParseSayArgs(t *testing.T) {
	tests := []struct {
		in                              string
		lang, typ, method, gender, text string
	}{
		{"en number pronounced 42", "en", "number", "pronounced", "", "42"},
		{"en:en NUMBER iterated masculine 42", "en", "NUMBER", "iterated", "masculine", "42"},
		{"en name_spelled pronounced hello world", "en", "name_spelled", "pronounced", "", "hello world"},
	}
	for _, tt := range tests {
		l, ty, m, g, x, err := ParseSayArgs(tt.in)
		if err != nil || l != tt.lang || ty != tt.typ || m != tt.method || g != tt.gender || x != tt.text {
			t.Errorf("ParseSayArgs(%q) = %q %q %q %q %q %v", tt.in, l, ty, m, g, x, err)
		}
	}
	if _, _, _, _, _, err := ParseSayArgs("en number"); err == nil {
		t.Error("short say args accepted")
	}
}
