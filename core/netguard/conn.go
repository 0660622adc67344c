package netguard

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// timedConn enforces the handshake, message and idle timeouts on reads and the write timeout
// on writes. A connection that times out is closed and its reader sees io.EOF, so the consumer
// (sipgo) treats it as a peer that went away rather than logging a read error per connection.
type timedConn struct {
	net.Conn          // what the consumer reads: the TLS connection, or raw
	raw      net.Conn // the guarded TCP connection
	tls      *tls.Conn
	l        *Listener

	hsOnce sync.Once
	hsErr  error
	shut   atomic.Bool // the guard closed it (a timeout); the consumer's Close is then quiet

	// Read state; sipgo reads a connection from one goroutine.
	fr    framer
	start time.Time // when the message being received began (accept time before the first)
}

func (c *timedConn) handshake() error {
	c.hsOnce.Do(func() {
		if c.tls == nil {
			return
		}
		if err := c.l.handshake(c.tls, c.raw); err != nil {
			c.hsErr = err
			c.l.hsFails.Add(1)
			if n, ok := c.l.warnTimeout.allow(); ok {
				c.l.log.Warn("TLS handshake failed; closing", "listener", c.l.cfg.Name, "src", c.raw.RemoteAddr().String(),
					"err", err, "suppressed", n)
			}
			c.shut.Store(true)
			_ = c.raw.Close()
		}
		c.start = time.Now()
	})
	return c.hsErr
}

func (c *timedConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, io.EOF
	}
	cfg := &c.l.cfg
	now := time.Now()
	var dl time.Time
	if cfg.IdleTimeout > 0 {
		dl = now.Add(cfg.IdleTimeout)
	}
	msgDL := false
	if cfg.MessageTimeout > 0 && (c.fr.inMessage() || !c.fr.seenOne) {
		if md := c.start.Add(cfg.MessageTimeout); dl.IsZero() || md.Before(dl) {
			dl, msgDL = md, true
		}
	}
	if err := c.raw.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		before := c.fr.starts
		c.fr.feed(b[:n])
		if c.fr.starts != before && c.fr.inMessage() {
			// A message began in this read (also when the previous one ended in it, back to
			// back): its time limit counts from now.
			c.start = time.Now()
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		what := "idle"
		if msgDL {
			what = "message"
			c.l.msgTO.Add(1)
		} else {
			c.l.idleTO.Add(1)
		}
		if sup, ok := c.l.warnTimeout.allow(); ok {
			c.l.log.Warn("connection timed out; closing", "listener", c.l.cfg.Name, "src", c.raw.RemoteAddr().String(),
				"timeout", what, "suppressed", sup)
		}
		c.shut.Store(true)
		_ = c.raw.Close()
		return n, io.EOF
	}
	return n, err
}

func (c *timedConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, net.ErrClosed
	}
	if d := c.l.cfg.WriteTimeout; d > 0 {
		_ = c.raw.SetWriteDeadline(time.Now().Add(d))
	}
	return c.Conn.Write(b)
}

// Close closes the TLS layer (a close_notify, bounded by tls) and the raw connection.
func (c *timedConn) Close() error {
	err := c.Conn.Close()
	if c.tls != nil {
		_ = c.raw.Close()
	}
	if c.shut.Load() {
		return nil
	}
	return err
}

// framer follows message boundaries of a SIP/HTTP-style stream (a head ending in an empty line,
// then Content-Length bytes of body) without parsing anything else. Lines may end in CRLF or
// LF; CR/LF between messages (RFC 5626 keep-alives) are not a message.
type framer struct {
	st      uint8
	seenOne bool   // a message has started (the first-message deadline no longer applies alone)
	starts  uint64 // messages begun
	line    [40]byte
	lineLen int
	clen    int
	left    int
}

const (
	frIdle uint8 = iota
	frHead
	frBody
)

// maxBody bounds a declared body; a larger Content-Length counts as this (the consumer will
// refuse the message; the message timeout still applies while bytes dribble in).
const maxBody = 1 << 20

func (f *framer) inMessage() bool { return f.st != frIdle }

func (f *framer) feed(p []byte) {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch f.st {
		case frIdle:
			if b == '\r' || b == '\n' {
				continue
			}
			f.st, f.lineLen, f.clen, f.seenOne = frHead, 0, 0, true
			f.starts++
			f.headByte(b)
		case frHead:
			f.headByte(b)
		case frBody:
			n := min(f.left, len(p)-i)
			f.left -= n
			i += n - 1
			if f.left == 0 {
				f.st = frIdle
			}
		}
	}
}

func (f *framer) headByte(b byte) {
	switch b {
	case '\r':
		return
	case '\n':
		if f.lineLen == 0 {
			if f.clen > 0 {
				f.st, f.left = frBody, f.clen
			} else {
				f.st = frIdle
			}
			return
		}
		f.headerLine()
		f.lineLen = 0
		return
	}
	if f.lineLen < len(f.line) {
		f.line[f.lineLen] = b
	}
	f.lineLen++
}

// headerLine picks Content-Length (or its compact form l) out of a finished header line.
func (f *framer) headerLine() {
	line := f.line[:min(f.lineLen, len(f.line))]
	colon := -1
	for i, b := range line {
		if b == ':' {
			colon = i
			break
		}
	}
	if colon < 0 {
		return
	}
	name := trim(line[:colon])
	if !(len(name) == 1 && (name[0] == 'l' || name[0] == 'L')) && !equalFold(name, "content-length") {
		return
	}
	n := 0
	for _, b := range trim(line[colon+1:]) {
		if b < '0' || b > '9' {
			break
		}
		if n = n*10 + int(b-'0'); n > maxBody {
			n = maxBody
			break
		}
	}
	f.clen = n
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
