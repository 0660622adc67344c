package sip

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// wsDemux shares a WebSocket listener between SIP and the web phone, as FreeSWITCH's WSS port
// serves verto's pages too: a connection whose request asks for a WebSocket upgrade goes to
// sipgo (Accept), any other HTTP request to the page handler.
type wsDemux struct {
	net.Listener // the guarded listener; its Accept is the demux's own
	ws           chan net.Conn
	pages        *chanListener
	srv          *http.Server
	done         chan struct{}
	once         sync.Once
	log          *slog.Logger
}

// maxHead bounds the request head read to tell an upgrade from a page request, headTimeout the
// time it may take to arrive.
const (
	maxHead     = 8 << 10
	headTimeout = 10 * time.Second
)

func newWSDemux(l net.Listener, pages http.Handler, log *slog.Logger) *wsDemux {
	d := &wsDemux{Listener: l, ws: make(chan net.Conn), done: make(chan struct{}), log: log}
	d.pages = &chanListener{addr: l.Addr(), c: make(chan net.Conn), done: d.done}
	d.srv = &http.Server{Handler: pages, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go d.acceptLoop()
	go func() { _ = d.srv.Serve(d.pages) }()
	return d
}

func (d *wsDemux) acceptLoop() {
	for {
		c, err := d.Listener.Accept()
		if err != nil {
			d.Close()
			return
		}
		go d.route(c)
	}
}

// route reads the request head and hands the connection on, the head still to be read.
func (d *wsDemux) route(c net.Conn) {
	slow := time.AfterFunc(headTimeout, func() { c.Close() }) // a request head that dribbles
	defer slow.Stop()
	head := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		if len(head) >= maxHead {
			c.Close()
			return
		}
		n, err := c.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			c.Close()
			return
		}
	}
	pc := &prefixConn{Conn: c, prefix: head}
	to := d.pages.c
	if isUpgrade(head) {
		to = d.ws
	}
	select {
	case to <- pc:
	case <-d.done:
		c.Close()
	}
}

// isUpgrade reports whether an HTTP request head asks for a WebSocket.
func isUpgrade(head []byte) bool {
	h := bytes.ToLower(head)
	return bytes.Contains(h, []byte("\nupgrade:")) && bytes.Contains(h, []byte("websocket"))
}

// Accept returns the next WebSocket connection, for sipgo.
func (d *wsDemux) Accept() (net.Conn, error) {
	select {
	case c := <-d.ws:
		return c, nil
	case <-d.done:
		return nil, net.ErrClosed
	}
}

// Close stops both sides.
func (d *wsDemux) Close() error {
	var err error
	d.once.Do(func() {
		close(d.done)
		err = d.Listener.Close()
		_ = d.srv.Close()
	})
	return err
}

// chanListener is a net.Listener fed by the demux, for http.Server.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	done chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// prefixConn replays bytes already read from the connection before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
