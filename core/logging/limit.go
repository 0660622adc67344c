package logging

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// LimitOptions bound what a logger fed by strangers (a SIP stack logging what it could not
// parse) can write: string values are cut to MaxValue bytes with a count of what was left out,
// and records at Info and above are rate limited per key (message plus source address) and in
// total, with one "suppressed K messages" line per second while a flood lasts.
type LimitOptions struct {
	MaxValue int // bytes of a string attribute or message kept; default 512
	PerKey   int // records per second per message and source; default 5
	Total    int // records per second in all; default 20
}

// Limit wraps h with the bounds of o.
func Limit(h slog.Handler, o LimitOptions) slog.Handler {
	if o.MaxValue <= 0 {
		o.MaxValue = 512
	}
	if o.PerKey <= 0 {
		o.PerKey = 5
	}
	if o.Total <= 0 {
		o.Total = 20
	}
	return &limitHandler{h: h, st: &limitState{o: o, root: h, keys: map[string]int{}}}
}

type limitHandler struct {
	h   slog.Handler
	st  *limitState
	src string // a source address among the handler's attributes
}

type limitState struct {
	o    LimitOptions
	root slog.Handler

	mu         sync.Mutex
	window     time.Time // start of the current second
	keys       map[string]int
	total      int
	suppressed int
	last       string       // message of the last suppressed record
	lastH      slog.Handler // and the handler it came through (its attributes)
	timer      *time.Timer
}

// maxKeys bounds the per-window key map; past it, keys lose their source.
const maxKeys = 4096

func (l *limitHandler) Enabled(ctx context.Context, lv slog.Level) bool { return l.h.Enabled(ctx, lv) }

func (l *limitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.h = l.h.WithAttrs(truncAttrs(as, l.st.o.MaxValue))
	for _, a := range as {
		if isSourceKey(a.Key) {
			c.src = a.Value.String()
		}
	}
	return &c
}

func (l *limitHandler) WithGroup(name string) slog.Handler {
	c := *l
	c.h = l.h.WithGroup(name)
	return &c
}

func isSourceKey(k string) bool {
	switch k {
	case "raddr", "source", "src", "remote", "remote_addr", "addr":
		return true
	}
	return false
}

func (l *limitHandler) Handle(ctx context.Context, r slog.Record) error {
	keep := l.st.o.MaxValue
	src := l.src
	out := slog.NewRecord(r.Time, r.Level, truncString(r.Message, keep), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if isSourceKey(a.Key) {
			src = a.Value.String()
		}
		out.AddAttrs(truncAttr(a, keep))
		return true
	})
	if r.Level >= slog.LevelInfo && !l.st.allow(l.h, r.Message, src, r.Time) {
		return nil
	}
	return l.h.Handle(ctx, out)
}

// allow counts a record in the current one-second window.
func (s *limitState) allow(h slog.Handler, msg, src string, now time.Time) bool {
	if now.IsZero() {
		now = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.window) >= time.Second || now.Before(s.window) {
		s.window, s.total = now, 0
		clear(s.keys)
	}
	key := msg + "\x00" + src
	if _, ok := s.keys[key]; !ok && len(s.keys) >= maxKeys {
		key = msg
	}
	n := s.keys[key]
	if n >= s.o.PerKey || s.total >= s.o.Total {
		s.suppressed++
		s.last, s.lastH = truncString(msg, s.o.MaxValue), h
		if s.timer == nil {
			s.timer = time.AfterFunc(time.Second, s.summary)
		}
		return false
	}
	s.keys[key] = n + 1
	s.total++
	return true
}

// summary writes how many records the last second suppressed, and rearms while a flood lasts.
func (s *limitState) summary() {
	s.mu.Lock()
	n, last, h := s.suppressed, s.last, s.lastH
	s.suppressed = 0
	if n > 0 {
		s.timer = time.AfterFunc(time.Second, s.summary)
	} else {
		s.timer = nil
	}
	s.mu.Unlock()
	if n == 0 {
		return
	}
	r := slog.NewRecord(time.Now(), slog.LevelWarn, fmt.Sprintf("log rate limit: suppressed %d messages", n), 0)
	r.AddAttrs(slog.Int("suppressed", n), slog.String("last", last))
	if h == nil {
		h = s.root
	}
	_ = h.Handle(context.Background(), r)
}

// FlushLimit writes the pending summary of a Limit handler at once (tests, shutdown).
func FlushLimit(h slog.Handler) {
	if l, ok := h.(*limitHandler); ok {
		l.st.mu.Lock()
		if l.st.timer != nil {
			l.st.timer.Stop()
		}
		l.st.mu.Unlock()
		l.st.summary()
		l.st.mu.Lock()
		if l.st.timer != nil {
			l.st.timer.Stop()
			l.st.timer = nil
		}
		l.st.mu.Unlock()
	}
}

func truncString(s string, keep int) string {
	if len(s) <= keep {
		return s
	}
	return s[:keep] + fmt.Sprintf("...(%d bytes omitted)", len(s)-keep)
}

func truncAttr(a slog.Attr, keep int) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > keep {
			return slog.String(a.Key, truncString(v.String(), keep))
		}
	case slog.KindGroup:
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(truncAttrs(v.Group(), keep)...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case []byte:
			return slog.String(a.Key, truncString(string(x), keep))
		case error:
			if s := x.Error(); len(s) > keep {
				return slog.String(a.Key, truncString(s, keep))
			}
		case fmt.Stringer:
			if s := x.String(); len(s) > keep {
				return slog.String(a.Key, truncString(s, keep))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func truncAttrs(as []slog.Attr, keep int) []slog.Attr {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = truncAttr(a, keep)
	}
	return out
}
