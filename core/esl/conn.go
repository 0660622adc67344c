package esl

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/esl/wire"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/netguard"
)

// conn is one event-socket connection, inbound or outbound. The reader goroutine runs commands;
// an event pump and a log pump write what the bus and the logger deliver. All writes go through
// write, so frames never interleave.
type conn struct {
	srv       *Server
	id        uint64
	nc        net.Conn
	r         *bufio.Reader
	connected time.Time

	wmu sync.Mutex
	w   *bufio.Writer

	authed   bool
	outbound bool
	full     bool
	async    bool
	session  *core.Session // outbound: the controlled channel
	resume   bool

	// userauth restrictions; nil means everything is allowed.
	allowedAPI    map[string]bool
	allowedEvents map[string]bool
	allowedLog    bool

	mu       sync.Mutex
	sel      atomic.Pointer[selection]
	sub      *event.Subscription
	logSub   *logging.Subscription
	logEnd   chan struct{}
	linger   time.Duration
	doLinger bool
	divert   bool
	exec     chan func() // outbound: work for the socket application loop on the session goroutine

	done chan struct{} // closed when the connection ends
	wg   sync.WaitGroup
	once sync.Once
}

func newConn(srv *Server, nc net.Conn) *conn {
	return &conn{
		srv: srv, id: srv.next.Add(1), nc: nc, connected: time.Now(),
		r: bufio.NewReaderSize(nc, 16<<10), w: bufio.NewWriterSize(nc, 32<<10),
		done: make(chan struct{}),
	}
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *conn) reply(text string, extra ...event.Header) error {
	return c.write(appendReply(nil, text, extra...))
}

// replyAfter runs fn (which must not write to the connection) and writes the reply while holding
// the write lock, so events fn causes reach the client after the reply, as with FreeSWITCH's
// single listener thread.
func (c *conn) replyAfter(fn func() string, extra ...event.Header) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	text := fn()
	if _, err := c.w.Write(appendReply(nil, text, extra...)); err != nil {
		return err
	}
	return c.w.Flush()
}

// close ends the connection and waits for its pumps.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.mu.Lock()
		if c.sub != nil {
			c.sub.Close()
		}
		if c.logSub != nil {
			c.logSub.Close()
		}
		c.mu.Unlock()
		_ = c.nc.Close()
		c.srv.remove(c)
	})
	c.wg.Wait()
}

func (c *conn) stat() ListenerStat {
	st := ListenerStat{ID: c.id, Remote: c.nc.RemoteAddr().String(), Outbound: c.outbound, Connected: c.connected}
	if sel := c.sel.Load(); sel != nil {
		st.Format = sel.format
	}
	c.mu.Lock()
	if c.sub != nil {
		st.Queued, st.Dropped = c.sub.Len(), c.sub.Dropped()
	}
	if c.logSub != nil {
		st.LogQueued, st.LogDropped = c.logSub.Len(), c.logSub.Dropped()
	}
	c.mu.Unlock()
	if c.session != nil {
		st.Session = c.session.UUID()
	}
	return st
}

// serveInbound runs an inbound connection: ACL, auth/request, then commands.
func (s *Server) serveInbound(nc net.Conn) {
	if !s.guard.Request(netguard.RemoteIP(nc.RemoteAddr())) {
		_ = nc.Close() // banned: no answer
		return
	}
	if !s.cfg.allowed(s.acls.Load(), nc.RemoteAddr()) {
		s.h.Log.Warn("event socket: IP denied by ACL", "remote", nc.RemoteAddr().String())
		_, _ = nc.Write([]byte(rudeRejection))
		_ = nc.Close()
		return
	}
	c := newConn(s, nc)
	if !s.add(c) {
		_ = nc.Close()
		return
	}
	defer c.close()
	if c.write([]byte(authRequest)) != nil {
		return
	}
	_ = nc.SetReadDeadline(time.Now().Add(time.Duration(s.authTimeout.Load())))
	c.loop()
}

// loop reads and runs commands until the client leaves or a command ends the connection.
func (c *conn) loop() {
	for {
		limit := wire.MaxBody
		if !c.authed {
			limit = preAuthMaxBody
		}
		m, err := wire.ReadMessageLimit(c.r, limit)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && !c.authed {
				c.srv.h.Log.Info("event socket: client failed to authenticate in time", "remote", c.nc.RemoteAddr().String())
				_ = c.disconnect()
			}
			return
		}
		if c.srv.cfg.Debug {
			c.srv.h.Log.Debug("event socket command", "cmd", m.Command)
		}
		if !c.dispatch(m) {
			return
		}
	}
}

func (c *conn) disconnect() error {
	var b []byte
	if c.session != nil {
		b = append(b, "Content-Type: text/disconnect-notice\nControlled-Session-UUID: "...)
		b = append(b, c.session.UUID()...)
		b = append(b, "\nContent-Disposition: disconnect\nContent-Length: "...)
	} else {
		b = append(b, "Content-Type: text/disconnect-notice\nContent-Length: "...)
	}
	b = strconv.AppendInt(b, int64(len(disconnectText)), 10)
	b = append(b, "\n\n"...)
	b = append(b, disconnectText...)
	return c.write(b)
}

// verb splits the command word (lower-cased) from its arguments.
func verb(line string) (string, string) {
	w, rest, _ := strings.Cut(line, " ")
	return strings.ToLower(w), strings.TrimSpace(rest)
}

// outboundBasic are the commands an outbound socket without `full` may use.
var outboundBasic = map[string]bool{
	"connect": true, "getvar": true, "myevents": true, "filter": true, "divert_events": true,
	"sendmsg": true, "resume": true, "exit": true, "...": true,
}

// dispatch runs one command; false ends the connection.
func (c *conn) dispatch(m *Message) bool {
	cmd, args := verb(m.Command)
	if !c.authed {
		switch cmd {
		case "auth":
			if c.authBanned() {
				return c.authFailed("", "banned")
			}
			if args == c.srv.cfg.Password {
				c.srv.guard.Success(netguard.RemoteIP(c.nc.RemoteAddr()), "")
				c.authed = true
				_ = c.nc.SetReadDeadline(time.Time{})
				return c.reply("+OK accepted") == nil
			}
			return c.authFailed("", "bad-password")
		case "userauth":
			return c.userauth(args)
		case "exit", "...":
			_ = c.reply("+OK bye")
			_ = c.disconnect()
			return false
		}
		return c.reply("-ERR command not found") == nil
	}
	if c.outbound && !c.full && !outboundBasic[cmd] {
		return c.reply("-ERR command not found") == nil
	}
	switch cmd {
	case "exit", "...":
		_ = c.reply("+OK bye")
		_ = c.disconnect()
		return false
	case "auth", "userauth":
		return c.reply("-ERR command not found") == nil
	case "api":
		return c.api(args, core.True(m.Headers.Get("console_execute")))
	case "bgapi":
		return c.bgapi(args, m.Headers.Get("Job-UUID"))
	case "event":
		return c.event(args)
	case "nixevent":
		return c.nixevent(args)
	case "noevents":
		return c.noevents()
	case "filter":
		return c.filter(args)
	case "log":
		return c.log(args)
	case "nolog":
		return c.nolog()
	case "sendevent":
		return c.sendevent(args, m)
	case "sendmsg":
		return c.sendmsg(args, m)
	case "myevents":
		return c.myevents(args)
	case "divert_events":
		on := strings.EqualFold(args, "on")
		c.mu.Lock()
		c.divert = on
		c.mu.Unlock()
		if on {
			return c.reply("+OK events diverted") == nil
		}
		return c.reply("+OK events not diverted") == nil
	case "linger":
		if c.session == nil {
			return c.reply("-ERR not controlling a session") == nil
		}
		n, _ := strconv.Atoi(args)
		c.mu.Lock()
		c.doLinger, c.linger = true, time.Duration(n)*time.Second
		c.mu.Unlock()
		if n > 0 {
			return c.reply("+OK will linger "+strconv.Itoa(n)+" seconds") == nil
		}
		return c.reply("+OK will linger") == nil
	case "nolinger":
		if c.session == nil {
			return c.reply("-ERR not controlling a session") == nil
		}
		c.mu.Lock()
		c.doLinger = false
		c.mu.Unlock()
		return c.reply("+OK will not linger") == nil
	case "resume":
		if c.session == nil {
			return c.reply("-ERR not controlling a session") == nil
		}
		c.mu.Lock()
		c.resume = true
		c.mu.Unlock()
		c.session.SetVar("socket_resume", "true")
		return c.reply("+OK") == nil
	case "connect":
		return c.connect()
	case "getvar":
		if c.session == nil {
			return c.reply("-ERR command not found") == nil
		}
		return c.reply(c.session.Var(args)) == nil
	}
	return c.reply("-ERR command not found") == nil
}

func (c *conn) userauth(args string) bool {
	userDomain, pass, ok := strings.Cut(args, ":")
	user, domain, ok2 := strings.Cut(userDomain, "@")
	fail := func() bool { return c.authFailed(userDomain, "bad-password") }
	if !ok || !ok2 {
		userDomain = ""
		return fail()
	}
	if c.authBanned() {
		return c.authFailed(userDomain, "banned")
	}
	if c.srv.guard.UserLocked(userDomain, netguard.RemoteIP(c.nc.RemoteAddr())) {
		return c.authFailed(userDomain, "user-locked")
	}
	snap := c.srv.h.Config()
	if snap == nil || snap.Directory() == nil {
		return fail()
	}
	u := snap.Directory().User(user, domain)
	if u == nil || u.Param("esl-password") == "" || u.Param("esl-password") != pass {
		return fail()
	}
	list := func(v string) map[string]bool {
		m := map[string]bool{}
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			m[f] = true
		}
		return m
	}
	evs, apis, logs := u.Param("esl-allowed-events"), u.Param("esl-allowed-api"), u.Param("esl-allowed-log")
	if evs == "" {
		evs = "all"
	}
	if apis == "" {
		apis = "all"
	}
	if logs == "" {
		logs = "true"
	}
	c.allowedEvents = list(evs)
	c.allowedAPI = list(apis)
	if c.allowedAPI["all"] {
		c.allowedAPI = nil
	}
	c.allowedLog = logs == "true" || logs == "all"
	if c.allowedEvents["all"] {
		c.allowedEvents = nil
	}
	c.srv.guard.Success(netguard.RemoteIP(c.nc.RemoteAddr()), userDomain)
	c.authed = true
	_ = c.nc.SetReadDeadline(time.Time{})
	return c.reply("+OK accepted",
		event.Header{Name: "Allowed-Events", Value: evs},
		event.Header{Name: "Allowed-API", Value: apis},
		event.Header{Name: "Allowed-LOG", Value: logs}) == nil
}
