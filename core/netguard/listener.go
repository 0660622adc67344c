// Package netguard keeps a stream listener (SIP TCP/TLS, the event socket) alive on a hostile
// network: its Accept never gives up on a temporary error (EMFILE, ENFILE, ECONNABORTED: it
// backs off and retries), it refuses connections over a total and a per-source cap or from a
// source an Allow hook rejects, and it closes connections that do not handshake, do not send a
// complete message in time, or go idle.
//
// The wrapper sits under the consumer's accept loop (sipgo's TransportTCP.Serve ends on the
// first Accept error, so the guard must never return one until it is closed).
package netguard

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what a Listener enforces. The zero value only adds the accept back-off.
type Config struct {
	// Name labels log lines ("sip internal tcp").
	Name string
	Log  *slog.Logger

	// MaxConns caps open connections; MaxPerSource caps them per source address (per /64 for
	// IPv6). 0 = no cap.
	MaxConns, MaxPerSource int

	// Allow, when set, is asked about every new connection's source; false closes it at once.
	// It is the hook for a ban list.
	Allow func(netip.Addr) bool

	// TLS, when set, makes the listener serve TLS over the guarded TCP connections, so the caps
	// apply before the handshake; HandshakeTimeout bounds the handshake.
	TLS              *tls.Config
	HandshakeTimeout time.Duration

	// MessageTimeout bounds how long one message (head and Content-Length body, framed as SIP
	// and HTTP are) may take to arrive from its first byte, and how long a new connection may
	// take to send its first. 0 = off.
	MessageTimeout time.Duration
	// IdleTimeout closes a connection that received nothing for this long. 0 = off.
	IdleTimeout time.Duration
	// WriteTimeout bounds one write (a peer that does not read). 0 = off.
	WriteTimeout time.Duration
}

// Stats are a listener's counters.
type Stats struct {
	Active           int64  // open connections
	Accepted         uint64 // connections let in
	Refused          uint64 // closed at accept: a cap was reached
	Denied           uint64 // closed at accept: Allow said no
	AcceptErrors     uint64 // Accept errors retried after a back-off (EMFILE, ...)
	HandshakeFails   uint64 // TLS handshakes that failed or timed out
	MessageTimeouts  uint64 // closed: a message (or the first one) did not arrive in time
	IdleTimeouts     uint64 // closed: idle
	PeakActive       int64
	LastAcceptErrMsg string
}

// Listener is a guarded net.Listener.
type Listener struct {
	inner net.Listener
	cfg   Config
	log   *slog.Logger
	allow atomic.Pointer[func(netip.Addr) bool]

	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	active   int64
	peak     int64
	perSrc   map[netip.Addr]int
	lastErr  string
	accepted atomic.Uint64
	refused  atomic.Uint64
	denied   atomic.Uint64
	acceptEr atomic.Uint64
	hsFails  atomic.Uint64
	msgTO    atomic.Uint64
	idleTO   atomic.Uint64

	warnCap, warnAccept, warnTimeout warnLimiter
}

// New wraps inner (a TCP listener) with cfg.
func New(inner net.Listener, cfg Config) *Listener {
	l := &Listener{inner: inner, cfg: cfg, log: cfg.Log, done: make(chan struct{}), perSrc: map[netip.Addr]int{}}
	if l.log == nil {
		l.log = slog.Default()
	}
	if cfg.Allow != nil {
		l.SetAllow(cfg.Allow)
	}
	return l
}

// SetAllow replaces the Allow hook (nil removes it); it applies to the next accepted connection.
func (l *Listener) SetAllow(f func(netip.Addr) bool) {
	if f == nil {
		l.allow.Store(nil)
		return
	}
	l.allow.Store(&f)
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Close implements net.Listener; a blocked Accept returns net.ErrClosed.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Config returns the listener's configuration.
func (l *Listener) Config() Config { return l.cfg }

// Stats returns the counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	active, peak, last := l.active, l.peak, l.lastErr
	l.mu.Unlock()
	return Stats{
		Active: active, PeakActive: peak, Accepted: l.accepted.Load(), Refused: l.refused.Load(),
		Denied: l.denied.Load(), AcceptErrors: l.acceptEr.Load(), HandshakeFails: l.hsFails.Load(),
		MessageTimeouts: l.msgTO.Load(), IdleTimeouts: l.idleTO.Load(), LastAcceptErrMsg: last,
	}
}

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Accept implements net.Listener. It returns an error only once the listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				return nil, net.ErrClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// Every other error is treated as temporary: EMFILE/ENFILE clear when descriptors
			// are freed, ECONNABORTED is per connection. Go's net/http does the same.
			if backoff == 0 {
				backoff = minBackoff
			} else if backoff *= 2; backoff > maxBackoff {
				backoff = maxBackoff
			}
			l.acceptEr.Add(1)
			l.mu.Lock()
			l.lastErr = err.Error()
			l.mu.Unlock()
			if n, ok := l.warnAccept.allow(); ok {
				l.log.Warn("accept failed; retrying", "listener", l.cfg.Name, "err", err, "retry_in", backoff, "suppressed", n)
			}
			t := time.NewTimer(backoff)
			select {
			case <-l.done:
				t.Stop()
				return nil, net.ErrClosed
			case <-t.C:
			}
			continue
		}
		backoff = 0
		if c := l.admit(nc); c != nil {
			return c, nil
		}
	}
}

// admit applies Allow and the caps; it returns the wrapped connection or nil (closed).
func (l *Listener) admit(nc net.Conn) net.Conn {
	src := RemoteIP(nc.RemoteAddr())
	if f := l.allow.Load(); f != nil && src.IsValid() && !(*f)(src) {
		l.denied.Add(1)
		reset(nc)
		return nil
	}
	key := sourceKey(src)
	l.mu.Lock()
	var why string
	switch {
	case l.cfg.MaxConns > 0 && l.active >= int64(l.cfg.MaxConns):
		why = "max-connections"
	case l.cfg.MaxPerSource > 0 && l.perSrc[key] >= l.cfg.MaxPerSource:
		why = "max-connections-per-source"
	}
	if why != "" {
		active, n := l.active, l.perSrc[key]
		l.mu.Unlock()
		l.refused.Add(1)
		reset(nc)
		if sup, ok := l.warnCap.allow(); ok {
			l.log.Warn("connection refused: cap reached", "listener", l.cfg.Name, "cap", why, "src", src.String(),
				"from_src", n, "active", active, "suppressed", sup)
		}
		return nil
	}
	l.active++
	if l.active > l.peak {
		l.peak = l.active
	}
	l.perSrc[key]++
	l.mu.Unlock()
	l.accepted.Add(1)
	gc := &guardedConn{Conn: nc, l: l, src: key}
	if l.cfg.TLS == nil && l.cfg.MessageTimeout <= 0 && l.cfg.IdleTimeout <= 0 && l.cfg.WriteTimeout <= 0 {
		return gc
	}
	tc := &timedConn{Conn: gc, raw: gc, l: l, start: time.Now()}
	if l.cfg.TLS != nil {
		tc.tls = tls.Server(gc, l.cfg.TLS)
		tc.Conn = tc.tls
	}
	return tc
}

func (l *Listener) release(src netip.Addr) {
	l.mu.Lock()
	l.active--
	if n := l.perSrc[src] - 1; n > 0 {
		l.perSrc[src] = n
	} else {
		delete(l.perSrc, src)
	}
	l.mu.Unlock()
}

// sourceKey is what the per-source cap counts: the address, or for IPv6 its /64 (one
// subscriber's allocation, which an attacker can spread its connections over).
func sourceKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// RemoteIP is a's IP address (IPv4-in-IPv6 unmapped), without formatting and parsing it for
// the TCP and UDP addresses sockets give: it runs for every connection and datagram.
func RemoteIP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// reset closes a refused connection with RST, so neither side keeps it in TIME_WAIT.
func reset(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = nc.Close()
}

// guardedConn gives its slot back on the first Close; later ones are no-ops (the guard may
// close a connection before its consumer does, and sipgo warns about a failing Close).
type guardedConn struct {
	net.Conn
	l    *Listener
	src  netip.Addr
	once sync.Once
}

func (c *guardedConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.Conn.Close()
		c.l.release(c.src)
	})
	return err
}

// warnLimiter lets one log line through per interval and counts the rest.
type warnLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

const warnEvery = 10 * time.Second

func (w *warnLimiter) allow() (suppressed int, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if !w.last.IsZero() && now.Sub(w.last) < warnEvery {
		w.suppressed++
		return 0, false
	}
	n := w.suppressed
	w.last, w.suppressed = now, 0
	return n, true
}

// handshake runs the TLS handshake under HandshakeTimeout.
func (l *Listener) handshake(c *tls.Conn, raw net.Conn) error {
	if d := l.cfg.HandshakeTimeout; d > 0 {
		_ = raw.SetDeadline(time.Now().Add(d))
		defer raw.SetDeadline(time.Time{})
	}
	return c.Handshake()
}
