package playback

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

func init() {
	for _, a := range []core.AppInfo{
		{Name: "playback", Syntax: "<path>", Short: "Playback File", App: core.AppFunc(appPlayback)},
		{Name: "gentones", Syntax: "<tgml_script>[|<loops>]", Short: "Generate Tones", App: core.AppFunc(appGentones)},
		{Name: "read", Syntax: "<min> <max> <file> <var_name> <timeout> <terminators> <digit_timeout>", Short: "Read Digits", App: core.AppFunc(appRead)},
		{Name: "play_and_get_digits", Syntax: "<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']", Short: "Play and get Digits", App: core.AppFunc(appPlayAndGetDigits)},
		{Name: "record", Syntax: "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]", Short: "Record File", App: core.AppFunc(appRecord)},
		{Name: "record_session", Syntax: "<path> [+<timeout>]", Short: "Record Session", App: core.AppFunc(appRecordSession)},
		{Name: "stop_record_session", Syntax: "<path>", Short: "Stop Record Session", App: core.AppFunc(appStopRecordSession)},
		{Name: "say", Syntax: "<module_name>[:<lang>] <say_type> <say_method> [<say_gender>] <text>", Short: "say", App: core.AppFunc(appSay)},
		{Name: "speak", Syntax: "<engine>|<voice>|<text>", Short: "Speak text", App: core.AppFunc(appSpeak)},
		{Name: "phrase", Syntax: "<macro_name>,<data>", Short: "Say a Phrase", App: core.AppFunc(appPhrase)},
	} {
		a.Module = "mod_dptools"
		core.RegisterApp(a)
	}
}

func setResponse(s *core.Session, v string) { s.SetVar("current_application_response", v) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// terminatorsVar returns playback_terminators, default "*".
func terminatorsVar(s *core.Session) string {
	if v, ok := s.Vars().Get("playback_terminators"); ok {
		return v
	}
	return "*"
}

func appPlayback(ctx context.Context, s *core.Session, args string) error {
	file := strings.TrimSpace(args)
	if file == "" {
		return errors.New("playback: no file")
	}
	files := []string{file}
	if d := s.Var("playback_delimiter"); d != "" && !strings.HasPrefix(file, "file_string://") {
		files = strings.Split(file, d)
	}
	sleepVal, _ := strconv.Atoi(s.Var("playback_sleep_val"))
	if t, _ := strconv.Atoi(s.Var("playback_timeout_sec")); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	opts := Options{Stop: Terminators(terminatorsVar(s))}
	s.UnsetVar("playback_terminator_used")
	var total int64
	rate := 0
	status := "FILE PLAYED"
	var err error
	for i, f := range files {
		if i > 0 && sleepVal > 0 {
			if _, err = Play(ctx, s, fmt.Sprintf("silence_stream://%d", sleepVal), opts); err != nil {
				break
			}
		}
		e := s.NewEvent(event.PlaybackStart, "")
		e.Add("Playback-File-Path", f)
		s.Host().Bus.Publish(e)
		var r Result
		r, err = Play(ctx, s, f, opts)
		total += r.Samples
		if r.Rate != 0 {
			rate = r.Rate
		}
		e = s.NewEvent(event.PlaybackStop, "")
		e.Add("Playback-File-Path", f)
		e.Add("Playback-Status", map[bool]string{true: "break", false: "done"}[r.Digit != 0])
		s.Host().Bus.Publish(e)
		if r.Digit != 0 {
			s.SetVar("playback_terminator_used", string(r.Digit))
			break
		}
		if err != nil {
			break
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		status = "FILE NOT FOUND"
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && s.Context().Err() == nil:
		err = nil // playback_timeout_sec ran out
	case ctx.Err() == nil:
		status = "PLAYBACK ERROR"
	}
	if rate == 0 {
		rate = 8000
	}
	s.SetVar("playback_samples", itoa64(total))
	s.SetVar("playback_last_offset_pos", itoa64(total))
	s.SetVar("playback_ms", itoa64(total*1000/int64(rate)))
	s.SetVar("playback_seconds", itoa64(total/int64(rate)))
	setResponse(s, status)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func appGentones(ctx context.Context, s *core.Session, args string) error {
	spec, loops, _ := strings.Cut(strings.TrimSpace(args), "|")
	if spec == "" {
		return errors.New("gentones: no tone script")
	}
	if n, err := strconv.Atoi(strings.TrimSpace(loops)); err == nil && n != 0 {
		spec = fmt.Sprintf("L=%d;%s", n, spec)
	}
	_, err := Play(ctx, s, "tone_stream://"+spec, Options{})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func atoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func appRead(ctx context.Context, s *core.Session, args string) error {
	a := SeparateString(args, 7)
	if len(a) < 4 {
		return fmt.Errorf("read: usage: %s", "<min> <max> <file> <var_name> <timeout> <terminators> <digit_timeout>")
	}
	minD := max(1, atoiDefault(a[0], 1))
	maxD := max(minD, atoiDefault(a[1], minD))
	timeout := max(1000, atoiDefault(arg(a, 4), 0))
	term := arg(a, 5)
	if term == "" {
		term = "#"
	}
	digitTO := atoiDefault(arg(a, 6), timeout)
	in, err := GetDigits(ctx, s, Collect{
		Prompt: a[2], Min: minD, Max: maxD, Terminators: term,
		Timeout: time.Duration(timeout) * time.Millisecond, DigitTimeout: time.Duration(digitTO) * time.Millisecond,
	})
	if err != nil {
		return nil // hung up or interrupted
	}
	s.SetVar(a[3], in.Digits)
	s.SetVar("read_result", in.Result)
	if in.Terminator != 0 {
		s.SetVar("read_terminator_used", string(in.Terminator))
	} else {
		s.UnsetVar("read_terminator_used")
	}
	return nil
}

func appPlayAndGetDigits(ctx context.Context, s *core.Session, args string) error {
	a := SeparateString(args, 11)
	if len(a) < 9 {
		return errors.New("play_and_get_digits: usage: <min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']")
	}
	minD := max(0, atoiDefault(a[0], 0))
	maxD := max(minD, atoiDefault(a[1], minD))
	tries := max(1, atoiDefault(a[2], 1))
	timeout := max(1000, atoiDefault(a[3], 0))
	term, file, invalid, varName, pattern := a[4], a[5], a[6], a[7], a[8]
	digitTO := atoiDefault(arg(a, 9), timeout)
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = compile(pattern); err != nil {
			return fmt.Errorf("play_and_get_digits: regexp %q: %w", pattern, err)
		}
	}
	s.UnsetVar(varName + "_invalid")
	for try := 0; try < tries; try++ {
		in, err := GetDigits(ctx, s, Collect{
			Prompt: file, Min: minD, Max: maxD, Terminators: term,
			Timeout: time.Duration(timeout) * time.Millisecond, DigitTimeout: time.Duration(digitTO) * time.Millisecond,
		})
		if err != nil {
			return nil
		}
		s.SetVar("read_result", in.Result)
		if in.Terminator != 0 {
			s.SetVar("read_terminator_used", string(in.Terminator))
		}
		valid := len(in.Digits) >= minD && (in.Digits != "" || minD == 0) && (re == nil || re.MatchString(in.Digits))
		if valid && in.Result != ReadTimeout || valid && minD == 0 {
			s.SetVar(varName, in.Digits)
			s.SetVar("read_result", ReadSuccess)
			return nil
		}
		if in.Digits != "" {
			s.SetVar(varName+"_invalid", in.Digits)
		}
		s.SetVar("read_result", ReadFailure)
		if invalid != "" {
			if _, err := Play(ctx, s, invalid, Options{}); err != nil && ctx.Err() != nil {
				return nil
			}
		}
	}
	s.UnsetVar(varName)
	if fail := arg(a, 10); fail != "" {
		f := SeparateString(fail, 3)
		s.Transfer(f[0], arg(f, 1), arg(f, 2))
	}
	return nil
}

// recordPath makes a relative path absolute under ${recordings_dir}.
func recordPath(s *core.Session, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	dir := firstNonEmpty(s.Var("recordings_dir"), s.Host().Dirs.Recordings)
	if dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

func appRecord(ctx context.Context, s *core.Session, args string) error {
	a := SeparateString(args, 4)
	if len(a) < 1 {
		return errors.New("record: usage: <path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]")
	}
	path := recordPath(s, a[0])
	o := RecordOptions{
		Limit:         time.Duration(atoiDefault(arg(a, 1), 0)) * time.Second,
		SilenceThresh: atoiDefault(arg(a, 2), 0),
		SilenceHits:   atoiDefault(arg(a, 3), 0),
		Stop:          Terminators(terminatorsVar(s)),
	}
	if o.SilenceThresh > 0 && o.SilenceHits == 0 {
		o.SilenceHits = 3
	}
	s.UnsetVar("playback_terminator_used")
	e := s.NewEvent(event.RecordStart, "")
	e.Add("Record-File-Path", path)
	s.Host().Bus.Publish(e)
	rec, err := Record(ctx, s, path, o)
	if rec.Digit != 0 {
		s.SetVar("playback_terminator_used", string(rec.Digit))
	}
	rate := int64(max(rec.Rate, 1))
	s.SetVar("record_rate", itoa64(rate))
	s.SetVar("record_samples", itoa64(rec.Samples))
	s.SetVar("record_ms", itoa64(rec.Samples*1000/rate))
	s.SetVar("record_seconds", itoa64(rec.Samples/rate))
	e = s.NewEvent(event.RecordStop, "")
	e.Add("Record-File-Path", path)
	s.Host().Bus.Publish(e)
	if err != nil && ctx.Err() == nil {
		s.Log().Error("record failed", "path", path, "err", err)
		s.Hangup(core.CauseDestinationOutOfOrder)
		return err
	}
	return nil
}

func appRecordSession(ctx context.Context, s *core.Session, args string) error {
	a := SeparateString(args, 2)
	if len(a) < 1 {
		return errors.New("record_session: usage: <path> [+<timeout>]")
	}
	limit := 0
	if l := strings.TrimPrefix(arg(a, 1), "+"); l != "" {
		limit = atoiDefault(l, 0)
	}
	return StartSessionRecording(s, recordPath(s, a[0]), SessionRecordingOptions{
		Stereo:    isTrue(s.Var("RECORD_STEREO")) || isTrue(s.Var("record_stereo")),
		ReadOnly:  isTrue(s.Var("RECORD_READ_ONLY")),
		WriteOnly: isTrue(s.Var("RECORD_WRITE_ONLY")),
		LimitSecs: limit,
	})
}

func appStopRecordSession(ctx context.Context, s *core.Session, args string) error {
	p := strings.TrimSpace(args)
	if p != "all" {
		p = recordPath(s, p)
	}
	if StopSessionRecording(ctx, s, p) == 0 {
		return fmt.Errorf("stop_record_session: not recording %s", p)
	}
	return nil
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1", "enabled", "active", "allow":
		return true
	}
	return false
}

var genders = map[string]bool{"masculine": true, "feminine": true, "neuter": true, "utrum": true}

// ParseSayArgs splits the say application's data: <module>[:<lang>] <type> <method> [<gender>] <text>.
func ParseSayArgs(args string) (lang, typ, method, gender, text string, err error) {
	a := SeparateString(args, 5)
	if len(a) < 4 {
		return "", "", "", "", "", errors.New("say: usage: <module_name>[:<lang>] <say_type> <say_method> [<say_gender>] <text>")
	}
	mod, l, _ := strings.Cut(a[0], ":")
	lang = firstNonEmpty(l, mod)
	typ, method = a[1], a[2]
	if len(a) == 5 && genders[strings.ToLower(a[3])] {
		gender, text = a[3], a[4]
	} else {
		text = strings.Join(a[3:], " ")
	}
	return lang, typ, method, gender, text, nil
}

func appSay(ctx context.Context, s *core.Session, args string) error {
	lang, typ, method, gender, text, err := ParseSayArgs(args)
	if err != nil {
		return err
	}
	_, err = Say(ctx, s, typ, method, gender, text, Options{Language: lang, Stop: Terminators(terminatorsVar(s))})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func appPhrase(ctx context.Context, s *core.Session, args string) error {
	macro, data, _ := strings.Cut(strings.TrimSpace(args), ",")
	if macro == "" {
		setResponse(s, "NOTHING")
		return errors.New("phrase: no macro")
	}
	lang := ""
	if m, l, ok := strings.Cut(macro, "@"); ok && Language(s.Config(), l) != nil {
		macro, lang = m, l
	}
	_, err := Phrase(ctx, s, strings.TrimSpace(macro), data, Options{Language: lang, Stop: Terminators(terminatorsVar(s))})
	switch {
	case err == nil || ctx.Err() != nil:
		setResponse(s, "PHRASE PLAYED")
		return nil
	case errors.Is(err, ErrNoMacro):
		setResponse(s, "NOTHING")
	default:
		setResponse(s, "UNKNOWN ERROR")
	}
	return err
}

// appSpeak is speak [<engine>|][<voice>|]<text>; the engine is always the built-in one.
func appSpeak(ctx context.Context, s *core.Session, args string) error {
	parts := strings.SplitN(args, "|", 3)
	voice, text := "", args
	switch len(parts) {
	case 2:
		voice, text = parts[0], parts[1]
	case 3:
		voice, text = parts[1], parts[2]
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("speak: no text")
	}
	_, err := Speak(ctx, s, voice, text, Options{Stop: Terminators(terminatorsVar(s))})
	if ctx.Err() != nil {
		return nil
	}
	return err
}
