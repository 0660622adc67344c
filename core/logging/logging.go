// Package logging is the daemon's slog.Handler: FreeSWITCH's console line format, colours by level
// on a terminal, a run-time adjustable level (console loglevel, fsctl loglevel), an optional log
// file, and fan-out of every record to event-socket `log` subscribers (log/data frames).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
)

// FreeSWITCH log levels (switch_log_level_t): lower is more severe.
const (
	Console = 0
	Alert   = 1
	Crit    = 2
	Err     = 3
	Warning = 4
	Notice  = 5
	Info    = 6
	Debug   = 7
)

// slog levels for FreeSWITCH's levels that slog lacks. Use them with Logger.Log.
const (
	LevelNotice  = slog.Level(2)
	LevelCrit    = slog.Level(12)
	LevelAlert   = slog.Level(16)
	LevelConsole = slog.Level(20)
)

var levelNames = [...]string{"CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// LevelName returns FreeSWITCH's upper-case name of level n (0-7).
func LevelName(n int) string {
	if n < 0 || n > Debug {
		return "DEBUG"
	}
	return levelNames[n]
}

// ParseLevel is switch_log_str2level: a name (console, alert, crit, err/error, warning, notice,
// info, debug; any case) or a number 0-7.
func ParseLevel(s string) (int, bool) {
	s = strings.TrimSpace(strings.ToLower(s))
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > Debug {
			return 0, false
		}
		return n, true
	}
	switch s {
	case "error":
		return Err, true
	case "warn":
		return Warning, true
	}
	for i, n := range levelNames {
		if strings.ToLower(n) == s {
			return i, true
		}
	}
	return 0, false
}

// FromSlog maps a slog level to FreeSWITCH's 0-7.
func FromSlog(l slog.Level) int {
	switch {
	case l < slog.LevelInfo:
		return Debug
	case l < LevelNotice:
		return Info
	case l < slog.LevelWarn:
		return Notice
	case l < slog.LevelError:
		return Warning
	case l < LevelCrit:
		return Err
	case l < LevelAlert:
		return Crit
	case l < LevelConsole:
		return Alert
	}
	return Console
}

// ToSlog maps FreeSWITCH's 0-7 to a slog level.
func ToSlog(n int) slog.Level {
	switch n {
	case Console:
		return LevelConsole
	case Alert:
		return LevelAlert
	case Crit:
		return LevelCrit
	case Err:
		return slog.LevelError
	case Warning:
		return slog.LevelWarn
	case Notice:
		return LevelNotice
	case Info:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// Color returns the ANSI sequence FreeSWITCH's console uses for level n.
func Color(n int) string {
	switch n {
	case Alert, Crit, Err:
		return "\x1b[31m"
	case Warning:
		return "\x1b[35m"
	case Notice:
		return "\x1b[36m"
	case Info:
		return "\x1b[32m"
	case Debug:
		return "\x1b[33m"
	}
	return "\x1b[0m"
}

// ColorReset ends a coloured line.
const ColorReset = "\x1b[0m"

// Record is one log line as event-socket log subscribers receive it.
type Record struct {
	Level int // 0-7
	Time  time.Time
	File  string // base name
	Func  string
	Line  int
	UUID  string // the channel the line is about ("" when none): log/data User-Data
	Text  string // the formatted line without the uuid prefix, ending in "\n"
}

// Options configure New. The zero value logs INFO and above to stderr.
type Options struct {
	// Level is the console level; nil makes a new one at Info. Share it as core.HostOptions.LogLevel
	// so `console loglevel` and `fsctl loglevel` change what the console shows.
	Level *slog.LevelVar
	// Writer is the console; nil means os.Stderr. Use io.Discard for a daemon without console (-nc).
	Writer io.Writer
	// Color: "auto" (default: when Writer is a terminal), "on" or "off".
	Color string
	// File, when set, appends every line at or above Level to this file (the daemon uses
	// <log_dir>/goswitch.log). Reopen reopens it after rotation.
	File string
	// NoSource drops the file.go:123 part.
	NoSource bool
}

// Handler is the slog.Handler. Build one with New; derive loggers with slog.New(h).
type Handler struct {
	c      *core
	attrs  []slog.Attr
	groups string // "a.b." prefix for attribute keys
	uuid   string
}

type core struct {
	level    *slog.LevelVar
	color    bool
	noSource bool

	mu   sync.Mutex // serialises writes to out and file
	out  io.Writer
	path string
	file *os.File

	subsMu  sync.Mutex
	subs    atomic.Pointer[[]*Subscription]
	subsMax atomic.Int32 // the most verbose subscriber level, -1 when none
}

// New builds the handler. The caller owns it and calls Close at exit.
//
//	h, err := logging.New(logging.Options{Level: lv, File: filepath.Join(logDir, "goswitch.log")})
//	log := slog.New(h)
//	core.NewHost(core.HostOptions{Log: log, LogLevel: h.Level(), ...})
func New(opts Options) (*Handler, error) {
	c := &core{level: opts.Level, out: opts.Writer, noSource: opts.NoSource, path: opts.File}
	if c.level == nil {
		c.level = new(slog.LevelVar)
	}
	if c.out == nil {
		c.out = os.Stderr
	}
	switch opts.Color {
	case "on":
		c.color = true
	case "off":
	default:
		if f, ok := c.out.(*os.File); ok {
			c.color = isatty.IsTerminal(f.Fd())
		}
	}
	empty := []*Subscription{}
	c.subs.Store(&empty)
	c.subsMax.Store(-1)
	if c.path != "" {
		if err := c.openFile(); err != nil {
			return nil, err
		}
	}
	return &Handler{c: c}, nil
}

func (c *core) openFile() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(c.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	c.file = f
	return nil
}

// FromLogger returns the Handler behind l, or nil when l does not log through this package.
func FromLogger(l *slog.Logger) *Handler {
	if l == nil {
		return nil
	}
	h, _ := l.Handler().(*Handler)
	return h
}

// Level returns the console level variable.
func (h *Handler) Level() *slog.LevelVar { return h.c.level }

// SetLevel sets the console level from FreeSWITCH's 0-7.
func (h *Handler) SetLevel(n int) { h.c.level.Set(ToSlog(n)) }

// Reopen closes and reopens the log file (after logrotate or `fsctl send_sighup`).
func (h *Handler) Reopen() error {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" {
		return nil
	}
	if c.file != nil {
		_ = c.file.Close()
		c.file = nil
	}
	return c.openFile()
}

// Close closes the log file and every subscription.
func (h *Handler) Close() error {
	c := h.c
	for _, s := range *c.subs.Load() {
		s.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.file != nil {
		err := c.file.Close()
		c.file = nil
		return err
	}
	return nil
}

// Enabled reports whether the console, the file or a subscriber wants level l.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	if l >= h.c.level.Level() {
		return true
	}
	m := h.c.subsMax.Load()
	return m >= 0 && FromSlog(l) <= int(m)
}

// WithAttrs implements slog.Handler. A "uuid" attribute becomes the line's uuid prefix.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		if h.groups == "" && a.Key == "uuid" {
			n.uuid = a.Value.String()
			continue
		}
		a.Key = h.groups + a.Key
		n.attrs = append(n.attrs, a)
	}
	return &n
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.groups = h.groups + name + "."
	return &n
}

// Handle formats r and hands it to the console, the file and the subscribers.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	c := h.c
	lvl := FromSlog(r.Level)
	rec := &Record{Level: lvl, Time: r.Time, UUID: h.uuid}
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	if r.PC != 0 && !c.noSource {
		fs := runtime.CallersFrames([]uintptr{r.PC})
		f, _ := fs.Next()
		rec.File = filepath.Base(f.File)
		rec.Line = f.Line
		rec.Func = f.Function
		if i := strings.LastIndexByte(rec.Func, '/'); i >= 0 {
			rec.Func = rec.Func[i+1:]
		}
		if i := strings.IndexByte(rec.Func, '.'); i >= 0 {
			rec.Func = rec.Func[i+1:]
		}
	}
	buf := make([]byte, 0, 160)
	buf = rec.Time.AppendFormat(buf, "2006-01-02 15:04:05.000000")
	buf = append(buf, " ["...)
	buf = append(buf, LevelName(lvl)...)
	buf = append(buf, "] "...)
	if rec.File != "" {
		buf = append(buf, rec.File...)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(rec.Line), 10)
		buf = append(buf, ' ')
	}
	buf = append(buf, r.Message...)
	for _, a := range h.attrs {
		buf = appendAttr(buf, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		if h.groups == "" && a.Key == "uuid" {
			rec.UUID = a.Value.String()
			return true
		}
		buf = appendAttr(buf, h.groups, a)
		return true
	})
	buf = append(buf, '\n')
	rec.Text = string(buf)

	if r.Level >= c.level.Level() {
		line := buf
		if rec.UUID != "" {
			line = append([]byte(rec.UUID+" "), buf...)
		}
		c.mu.Lock()
		if c.color {
			_, _ = io.WriteString(c.out, Color(lvl))
			_, _ = c.out.Write(line[:len(line)-1])
			_, _ = io.WriteString(c.out, ColorReset+"\n")
		} else {
			_, _ = c.out.Write(line)
		}
		if c.file != nil {
			_, _ = c.file.Write(line)
		}
		c.mu.Unlock()
	}
	for _, s := range *c.subs.Load() {
		if int(s.level.Load()) >= lvl && !s.closed.Load() {
			select {
			case s.ch <- rec:
			default:
				s.dropped.Add(1)
			}
		}
	}
	return nil
}

func appendAttr(buf []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			buf = appendAttr(buf, p, g)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = append(buf, prefix...)
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \t\n\"=") {
		buf = strconv.AppendQuote(buf, v)
	} else {
		buf = append(buf, v...)
	}
	return buf
}

// Subscription is one event-socket `log` listener's bounded queue.
type Subscription struct {
	c       *core
	ch      chan *Record
	level   atomic.Int32
	dropped atomic.Uint64
	closed  atomic.Bool
	once    sync.Once
}

// Subscribe delivers every record at level (0-7) or more severe into a queue of queue records;
// records that do not fit are counted in Dropped. The handler never blocks on a subscriber.
func (h *Handler) Subscribe(level, queue int) *Subscription {
	if queue <= 0 {
		queue = 1
	}
	s := &Subscription{c: h.c, ch: make(chan *Record, queue)}
	s.level.Store(int32(level))
	c := h.c
	c.subsMu.Lock()
	next := append(append([]*Subscription(nil), *c.subs.Load()...), s)
	c.subs.Store(&next)
	c.recomputeMax()
	c.subsMu.Unlock()
	return s
}

// recomputeMax needs subsMu.
func (c *core) recomputeMax() {
	m := int32(-1)
	for _, s := range *c.subs.Load() {
		if l := s.level.Load(); l > m {
			m = l
		}
	}
	c.subsMax.Store(m)
}

// C is where records arrive. It is never closed.
func (s *Subscription) C() <-chan *Record { return s.ch }

// Dropped counts records that did not fit in the queue.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Len returns how many records wait in the queue.
func (s *Subscription) Len() int { return len(s.ch) }

// SetLevel changes the subscriber's level (ESL `log <level>` again).
func (s *Subscription) SetLevel(level int) {
	s.level.Store(int32(level))
	s.c.subsMu.Lock()
	s.c.recomputeMax()
	s.c.subsMu.Unlock()
}

// Close stops delivery; safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		c := s.c
		c.subsMu.Lock()
		old := *c.subs.Load()
		next := make([]*Subscription, 0, len(old))
		for _, x := range old {
			if x != s {
				next = append(next, x)
			}
		}
		c.subs.Store(&next)
		c.recomputeMax()
		c.subsMu.Unlock()
	})
}
