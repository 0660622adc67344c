package sip

import (
	"context"
	"log/slog"
	"net"
	"sync"
)

// A UDP datagram used to be parsed twice: once by the read filter's raw check, only to learn
// whether sipgo could parse it (and answer 400 if not), then again by sipgo. Now the read
// filter keeps a copy of the datagram it passes on, and when sipgo's transport reports that it
// could not parse one ("failed to parse", at ERROR, with the data), the profile answers that
// datagram from the copy: the 400 costs a parse only for the messages that are bad.

// udpSeen is the last datagram the read filter passed to sipgo, with its source. sipgo reads
// a listener from one goroutine, and parses each datagram right after the filter on that
// goroutine, so the failure report is about the datagram kept here; when another socket's
// datagram came in between, the contents differ and the failure goes unanswered (sipgo's
// silent drop, as for TCP).
type udpSeen struct {
	mu   sync.Mutex
	src  net.Addr
	data []byte // a copy: sipgo reuses its read buffer
}

func (u *udpSeen) keep(src net.Addr, data []byte) {
	u.mu.Lock()
	u.src, u.data = src, append(u.data[:0], data...)
	u.mu.Unlock()
}

// take returns the source of the kept datagram when its contents are data, once.
func (u *udpSeen) take(data string) net.Addr {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.src == nil || string(u.data) != data {
		return nil
	}
	src := u.src
	u.src = nil
	return src
}

// parseFailed answers the datagram sipgo could not parse, as the raw check would have.
func (p *Profile) parseFailed(data string) {
	src := p.udpSeen.take(data)
	if src == nil {
		return
	}
	res, dst := rawReject([]byte(data), src)
	if res == nil && dst == nil {
		return
	}
	p.dropped.Add(1)
	if res != nil && dst != nil {
		p.udp.WriteTo(res, dst)
	}
}

// parseFailHandler passes sipgo's log records on and reports its transports' parse failures.
type parseFailHandler struct {
	next   slog.Handler
	failed func(data string)
}

func (h parseFailHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h parseFailHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelError && r.Message == "failed to parse" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "data" {
				h.failed(a.Value.String())
				return false
			}
			return true
		})
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h parseFailHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return parseFailHandler{h.next.WithAttrs(as), h.failed}
}

func (h parseFailHandler) WithGroup(name string) slog.Handler {
	return parseFailHandler{h.next.WithGroup(name), h.failed}
}
