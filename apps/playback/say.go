package playback

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSayType is returned for a say type or language the say module does not handle.
var ErrSayType = errors.New("say: unsupported type")

// SayFiles returns the prompt files English mod_say_en plays for text, in order. typ and method
// are FreeSWITCH's names (NUMBER, ITEMS, CURRENT_DATE_TIME, ...; pronounced, iterated, counted),
// case-insensitive. now is used for the date and time types when text is not an epoch.
func SayFiles(typ, method, text string, now time.Time, loc *time.Location) ([]string, error) {
	typ = strings.ToUpper(strings.TrimSpace(typ))
	method = strings.ToLower(strings.TrimSpace(method))
	text = strings.TrimSpace(text)
	switch typ {
	case "NUMBER", "ITEMS", "PERSONS", "MESSAGES":
		switch method {
		case "iterated":
			return iterate(text), nil
		case "counted":
			n, err := strconv.ParseInt(digitsOnly(text), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("say: %q is not a number", text)
			}
			return counted(n), nil
		default:
			if strings.HasPrefix(text, "-") {
				f, err := SayFiles(typ, method, text[1:], now, loc)
				return append([]string{"digits/minus.wav"}, f...), err
			}
			n, err := strconv.ParseInt(digitsOnly(text), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("say: %q is not a number", text)
			}
			return number(n), nil
		}
	case "TELEPHONE_NUMBER", "TELEPHONE_EXTENSION", "ACCOUNT_NUMBER":
		return iterate(text), nil
	case "NAME_SPELLED", "NAME_PHONETIC":
		return spell(text, typ == "NAME_PHONETIC"), nil
	case "IP_ADDRESS":
		var out []string
		for i, part := range strings.Split(text, ".") {
			if i > 0 {
				out = append(out, "digits/dot.wav")
			}
			out = append(out, iterate(part)...)
		}
		return out, nil
	case "TIME_MEASUREMENT":
		secs, err := strconv.ParseInt(digitsOnly(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("say: %q is not a number of seconds", text)
		}
		return measure(secs), nil
	case "CURRENT_TIME", "CURRENT_DATE", "CURRENT_DATE_TIME", "SHORT_DATE_TIME":
		t := now
		if n, err := strconv.ParseInt(text, 10, 64); err == nil && n > 0 {
			t = time.Unix(n, 0)
		}
		if loc != nil {
			t = t.In(loc)
			now = now.In(loc)
		}
		switch typ {
		case "CURRENT_TIME":
			return sayTime(t), nil
		case "CURRENT_DATE":
			return sayDate(t), nil
		case "CURRENT_DATE_TIME":
			return append(sayDate(t), sayTime(t)...), nil
		default:
			return shortDateTime(t, now), nil
		}
	}
	return nil, fmt.Errorf("%w %s", ErrSayType, typ)
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func iterate(text string) []string {
	var out []string
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, fmt.Sprintf("digits/%c.wav", r))
		case r == '*':
			out = append(out, "digits/star.wav")
		case r == '#':
			out = append(out, "digits/pound.wav")
		case r == '.':
			out = append(out, "digits/dot.wav")
		}
	}
	return out
}

// spell is mod_say_en's en_spell: digits as digits, other characters as ascii/<code>.wav
// (phonetic-ascii/<code>.wav for NAME_PHONETIC).
func spell(text string, phonetic bool) []string {
	var out []string
	for _, r := range strings.ToLower(text) {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, fmt.Sprintf("digits/%c.wav", r))
		case r == ' ':
		case phonetic:
			out = append(out, fmt.Sprintf("phonetic-ascii/%d.wav", r))
		default:
			out = append(out, fmt.Sprintf("ascii/%d.wav", r))
		}
	}
	return out
}

// group speaks 0 < n < 1000 (play_group in mod_say_en).
func group(n int64) []string {
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, fmt.Sprintf("digits/%d.wav", h), "digits/hundred.wav")
	}
	rest := n % 100
	switch {
	case rest == 0:
	case rest < 20:
		out = append(out, fmt.Sprintf("digits/%d.wav", rest))
	default:
		out = append(out, fmt.Sprintf("digits/%d.wav", rest/10*10))
		if rest%10 > 0 {
			out = append(out, fmt.Sprintf("digits/%d.wav", rest%10))
		}
	}
	return out
}

func number(n int64) []string {
	if n == 0 {
		return []string{"digits/0.wav"}
	}
	var out []string
	scales := []struct {
		v    int64
		word string
	}{{1_000_000_000, "digits/billion.wav"}, {1_000_000, "digits/million.wav"}, {1000, "digits/thousand.wav"}}
	for _, sc := range scales {
		if g := n / sc.v; g > 0 {
			out = append(out, number(g)...)
			out = append(out, sc.word)
			n %= sc.v
		}
	}
	if n > 0 {
		out = append(out, group(n)...)
	}
	return out
}

// counted speaks an ordinal: the last word comes from digits/h-<n>.wav.
func counted(n int64) []string {
	if n <= 0 {
		return number(n)
	}
	rest := n % 100
	var head []string
	if n-rest > 0 {
		head = number(n - rest)
	}
	switch {
	case rest == 0:
		return number(n)
	case rest <= 20 || rest == 30:
		return append(head, fmt.Sprintf("digits/h-%d.wav", rest))
	case rest%10 == 0:
		return number(n)
	default:
		head = append(head, fmt.Sprintf("digits/%d.wav", rest/10*10))
		return append(head, fmt.Sprintf("digits/h-%d.wav", rest%10))
	}
}

func measure(secs int64) []string {
	h, m, s := secs/3600, secs%3600/60, secs%60
	var out []string
	unit := func(v int64, one, many string) {
		out = append(out, number(v)...)
		if v == 1 {
			out = append(out, one)
		} else {
			out = append(out, many)
		}
	}
	if h > 0 {
		unit(h, "time/hour.wav", "time/hours.wav")
	}
	if m > 0 {
		unit(m, "time/minute.wav", "time/minutes.wav")
	}
	if s > 0 || (h == 0 && m == 0) {
		unit(s, "time/second.wav", "time/seconds.wav")
	}
	return out
}

func sayTime(t time.Time) []string {
	h := t.Hour()
	pm := h >= 12
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	out := number(int64(h12))
	switch m := t.Minute(); {
	case m > 9:
		out = append(out, number(int64(m))...)
	case m > 0:
		out = append(out, "digits/oh.wav", fmt.Sprintf("digits/%d.wav", m))
	default:
		out = append(out, "time/oclock.wav")
	}
	if pm {
		return append(out, "time/p-m.wav")
	}
	return append(out, "time/a-m.wav")
}

func sayYear(y int) []string {
	hi, lo := y/100, y%100
	if y < 1000 || hi%10 == 0 && lo < 10 { // 2005: "two thousand five"
		return number(int64(y))
	}
	out := number(int64(hi))
	if lo == 0 {
		return append(out, "digits/hundred.wav")
	}
	if lo < 10 {
		out = append(out, "digits/oh.wav")
	}
	return append(out, number(int64(lo))...)
}

func sayDate(t time.Time) []string {
	out := []string{
		fmt.Sprintf("time/day-%d.wav", int(t.Weekday())),
		fmt.Sprintf("time/mon-%d.wav", int(t.Month())-1),
	}
	out = append(out, counted(int64(t.Day()))...)
	return append(out, sayYear(t.Year())...)
}

// shortDateTime is SHORT_DATE_TIME: the time alone for today, the weekday and time within a week,
// else the date and time.
func shortDateTime(t, now time.Time) []string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return sayTime(t)
	case now.Sub(t) < 6*24*time.Hour && now.After(t):
		return append([]string{fmt.Sprintf("time/day-%d.wav", int(t.Weekday()))}, sayTime(t)...)
	}
	return append(sayDate(t), sayTime(t)...)
}

// say plays the files SayFiles returns.
func (p *player) say(text, typ, method, gender string) error {
	if !strings.EqualFold(p.opts.Language, "en") && !strings.HasPrefix(strings.ToLower(p.opts.Language), "en") {
		p.log().Debug("say: no module for language, using en", "language", p.opts.Language)
	}
	var loc *time.Location
	if p.s != nil {
		if tz := p.s.Var("timezone"); tz != "" {
			if l, err := time.LoadLocation(tz); err == nil {
				loc = l
			}
		}
	}
	files, err := SayFiles(typ, method, text, time.Now(), loc)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := p.play(f); err != nil && !errors.Is(err, ErrNotFound) && !isNotFound(err) {
			return err
		}
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
