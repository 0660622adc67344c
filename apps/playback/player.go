// Package playback holds mod_dptools' media applications (playback, gentones, read,
// play_and_get_digits, record, record_session, say, phrase) and the file-string player the IVR,
// voicemail and conference applications share.
package playback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Errors returned by Play.
var (
	ErrNotFound    = errors.New("playback: file not found")
	ErrUnsupported = errors.New("playback: unsupported file string")
)

// errStopped unwinds nested file strings when a digit stops playback; Play turns it into
// Result.Digit.
var errStopped = errors.New("playback: stopped by dtmf")

// errBreak ends a phrase macro (the "break" action).
var errBreak = errors.New("playback: phrase break")

// Options control one Play call.
type Options struct {
	// Stop is asked about every digit received while playing; true stops playback and the digit
	// is returned in Result.Digit, false discards the digit. With nil, digits are not read at
	// all: they stay queued for whatever collects input next.
	Stop func(d rune) bool
	// SoundPrefix replaces ${sound_prefix} for relative paths.
	SoundPrefix string
	// Language selects phrase macros and the say module; default ${language}, else "en".
	Language string
	// Fallback supplies a macro the languages section lacks (a module's built-in prompts).
	Fallback func(name string) *etree.Element
	// Voice overrides ${tts_voice} for say: text.
	Voice string
	// Config is the configuration for PlayTo, which has no channel (local_stream.conf).
	Config *xmlconf.Snapshot
}

func (p *player) config() *xmlconf.Snapshot {
	if p.s != nil {
		return p.s.Config()
	}
	return p.opts.Config
}

// Result tells how a Play call ended.
type Result struct {
	Digit   rune  // the digit that stopped playback, 0 if none
	Samples int64 // samples written at the sources' rates
	Rate    int   // rate of the last source played
}

// Terminators returns a Stop function for a playback_terminators-style list: "any" stops on every
// digit, "none" or "" on none.
func Terminators(list string) func(rune) bool {
	switch strings.ToLower(strings.TrimSpace(list)) {
	case "", "none":
		return nil
	case "any":
		return func(rune) bool { return true }
	}
	return func(d rune) bool { return strings.ContainsRune(list, d) }
}

// AnyDigit stops on every digit (prompts of read, IVR menus).
func AnyDigit(rune) bool { return true }

// Play plays a FreeSWITCH file string on the session: a path (relative ones under
// ${sound_prefix}, then the embedded prompts), tone_stream://, silence_stream://,
// local_stream://, file_string://a!b, phrase:<macro>[:<data>], {loops=N}<file> and
// <file>@@<start sample>. It returns when the audio has been written, a digit accepted by
// opts.Stop arrived (Result.Digit), or ctx ended.
func Play(ctx context.Context, s *core.Session, file string, opts Options) (Result, error) {
	p, err := newPlayer(ctx, s, opts)
	if err != nil {
		return Result{}, err
	}
	err = p.play(file)
	return p.result(err)
}

// Say speaks text with the say module (FreeSWITCH's say application): typ NUMBER, ITEMS, ...,
// method pronounced, iterated, counted.
func Say(ctx context.Context, s *core.Session, typ, method, gender, text string, opts Options) (Result, error) {
	p, err := newPlayer(ctx, s, opts)
	if err != nil {
		return Result{}, err
	}
	err = p.say(text, typ, method, gender)
	return p.result(err)
}

// Phrase runs a phrase macro ("name" or "name@group") from the languages section with data.
func Phrase(ctx context.Context, s *core.Session, macro, data string, opts Options) (Result, error) {
	p, err := newPlayer(ctx, s, opts)
	if err != nil {
		return Result{}, err
	}
	err = p.phrase(macro, data)
	return p.result(err)
}

type player struct {
	ctx     context.Context
	s       *core.Session
	st      media.Stream
	opts    Options
	digit   rune
	samples int64
	rate    int
	buf     []int16
	depth   int
}

// PlayTo plays a file string into any stream without a channel (conference mixer, tests):
// relative paths use opts.SoundPrefix, then the embedded prompts. Phrases need a channel and are
// not available here.
func PlayTo(ctx context.Context, st media.Stream, file string, opts Options) error {
	if opts.Language == "" {
		opts.Language = "en"
	}
	p := &player{ctx: ctx, st: st, opts: opts}
	_, err := p.result(p.play(file))
	return err
}

func (p *player) log() *slog.Logger {
	if p.s == nil {
		return slog.Default()
	}
	return p.s.Log()
}

func newPlayer(ctx context.Context, s *core.Session, opts Options) (*player, error) {
	st := s.Media()
	if st == nil {
		return nil, core.ErrNoMedia
	}
	if opts.Language == "" {
		opts.Language = firstNonEmpty(s.Var("language"), s.Var("default_language"), "en")
	}
	return &player{ctx: ctx, s: s, st: st, opts: opts}, nil
}

func (p *player) result(err error) (Result, error) {
	r := Result{Digit: p.digit, Samples: p.samples, Rate: p.rate}
	if errors.Is(err, errStopped) || errors.Is(err, errBreak) {
		err = nil
	}
	if err == nil && p.ctx.Err() != nil {
		err = p.ctx.Err()
	}
	return r, err
}

// checkDTMF drains received digits; a digit opts.Stop accepts ends playback.
func (p *player) checkDTMF() error {
	if p.s == nil || p.opts.Stop == nil {
		return p.ctx.Err()
	}
	for {
		select {
		case d := <-p.s.DTMF():
			if p.opts.Stop != nil && p.opts.Stop(d.Digit) {
				p.digit = d.Digit
				return errStopped
			}
		default:
			return p.ctx.Err()
		}
	}
}

// pump writes src into the stream frame by frame, watching for digits between frames.
func (p *player) pump(src media.Source) error {
	n := src.Rate() * int(p.st.Ptime()/time.Millisecond) / 1000
	if n <= 0 {
		n = src.Rate() / 50
	}
	if cap(p.buf) < n {
		p.buf = make([]int16, n)
	}
	buf := p.buf[:n]
	f := media.Frame{Rate: src.Rate()}
	p.rate = src.Rate()
	for {
		if err := p.checkDTMF(); err != nil {
			return err
		}
		k, err := media.ReadFull(src, buf)
		if k > 0 {
			clear(buf[k:])
			f.PCM = buf
			if werr := p.st.WriteFrame(p.ctx, &f); werr != nil {
				return werr
			}
			p.samples += int64(k)
		}
		if err == io.EOF || (err == nil && k < n) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// silence plays ms of silence (phrase sleep, playback_sleep_val), still watching digits.
func (p *player) silence(ms int) error {
	if ms <= 0 {
		return p.checkDTMF()
	}
	return p.pump(audio.NewSilence(p.st.Rate(), ms, 0))
}

const maxDepth = 16

// play dispatches one file string.
func (p *player) play(file string) error {
	file = strings.TrimSpace(file)
	if file == "" {
		return ErrNotFound
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return fmt.Errorf("playback: %q nests too deep", file)
	}
	if strings.HasPrefix(file, "{") {
		end := strings.IndexByte(file, '}')
		if end < 0 {
			return fmt.Errorf("%w: %q", ErrUnsupported, file)
		}
		params := parseParams(file[1:end])
		inner := file[end+1:]
		loops := 1
		if v, ok := params["loops"]; ok {
			if n, err := strconv.Atoi(v); err == nil {
				loops = n
			}
		}
		if loops == 0 {
			loops = 1
		}
		for i := 0; loops < 0 || i < loops; i++ {
			if err := p.play(inner); err != nil {
				return err
			}
		}
		return nil
	}
	scheme, rest, hasScheme := strings.Cut(file, "://")
	if hasScheme {
		switch scheme {
		case "file_string":
			for _, f := range strings.Split(rest, "!") {
				if f == "" {
					continue
				}
				if err := p.play(f); err != nil {
					return err
				}
			}
			return nil
		case "tone_stream":
			g, err := audio.NewToneGenerator(rest, p.st.Rate())
			if err != nil {
				return err
			}
			return p.pump(g)
		case "silence_stream":
			ms, div := parseSilence(rest)
			return p.pump(audio.NewSilence(p.st.Rate(), ms, div))
		case "local_stream":
			return p.localStream(rest)
		}
		if len(scheme) > 1 { // "C:\..." is not a scheme
			return fmt.Errorf("%w: %s://", ErrUnsupported, scheme)
		}
	}
	if rest, ok := strings.CutPrefix(file, "phrase:"); ok {
		macro, data, _ := strings.Cut(rest, ":")
		return p.phrase(macro, data)
	}
	if rest, ok := strings.CutPrefix(file, "say:"); ok {
		return p.speak(rest)
	}
	return p.playFile(file)
}

func (p *player) playFile(file string) error {
	start := int64(0)
	if i := strings.LastIndex(file, "@@"); i > 0 {
		if n, err := strconv.ParseInt(file[i+2:], 10, 64); err == nil && n > 0 {
			start = n
		}
		file = file[:i]
	}
	src, closer, err := p.open(file)
	if err != nil {
		return err
	}
	defer closer()
	if start > 0 {
		skip := make([]int16, 1024)
		for start > 0 {
			k, err := src.Read(skip[:min(int64(len(skip)), start)])
			start -= int64(k)
			if err != nil {
				return nil
			}
		}
	}
	return p.pump(src)
}

func parseParams(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// parseSilence reads "<ms>[,<noise divisor>]".
func parseSilence(s string) (ms, div int) {
	a, b, _ := strings.Cut(s, ",")
	ms, _ = strconv.Atoi(strings.TrimSpace(a))
	div, _ = strconv.Atoi(strings.TrimSpace(b))
	return ms, div
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
