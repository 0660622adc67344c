package esl

import (
	"bufio"
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

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

// selection is what a connection listens to. It is replaced, never modified, so the bus can read
// it from publishing goroutines without locks.
type selection struct {
	active  bool
	format  string
	all     bool
	names   map[string]bool
	subs    map[string]bool
	filters []filter
	myUUID  string
}

type filter struct {
	header, value string
	re            *regexp.Regexp // for /regex/ values
}

func newFilter(header, value string) filter {
	f := filter{header: header, value: value}
	v := strings.TrimLeft(value, "+- ")
	if len(v) > 1 && v[0] == '/' {
		if re, err := regexp.Compile(strings.TrimSuffix(v[1:], "/")); err == nil {
			f.re = re
		}
	}
	return f
}

func (sel *selection) clone() *selection {
	n := &selection{format: "plain", names: map[string]bool{}, subs: map[string]bool{}}
	if sel == nil {
		return n
	}
	n.active, n.format, n.all, n.myUUID = sel.active, sel.format, sel.all, sel.myUUID
	for k := range sel.names {
		n.names[k] = true
	}
	for k := range sel.subs {
		n.subs[k] = true
	}
	n.filters = append([]filter(nil), sel.filters...)
	return n
}

// match is called by Bus.Publish on the publisher's goroutine.
func (c *conn) match(e *event.Event) bool {
	sel := c.sel.Load()
	if sel == nil || !sel.active {
		return false
	}
	if sel.myUUID != "" {
		if id := e.Get("Unique-ID"); id != "" && id != sel.myUUID {
			if e.Get("Job-Owner-UUID") != sel.myUUID {
				return false
			}
		}
	}
	send := sel.all
	if !send && sel.names[e.Name] {
		send = e.Name != event.Custom || e.Subclass == "" || sel.subs[e.Subclass]
	}
	if !send {
		return false
	}
	if c.allowedEvents != nil && !c.allowedEvents["all"] && !c.allowedEvents[e.Name] {
		return false
	}
	if len(sel.filters) > 0 {
		return filtersPass(sel.filters, e)
	}
	return true
}

// filtersPass is mod_event_socket's filter rule: with filters present an event is sent when a
// positive filter matches and no negative (-) filter matches. Values are compared
// case-insensitively; /regex/ values are regular expressions.
func filtersPass(fs []filter, e *event.Event) bool {
	send := false
	for _, f := range fs {
		hv, ok := e.Headers.Lookup(f.header)
		if !ok {
			continue
		}
		pos := true
		v := f.value
		for v != "" {
			if v[0] == '+' {
				pos = true
			} else if v[0] == '-' {
				pos = false
			} else if v[0] != ' ' {
				break
			}
			v = v[1:]
		}
		if send && pos {
			continue
		}
		var hit bool
		if f.re != nil {
			hit = f.re.MatchString(hv)
		} else {
			hit = strings.EqualFold(hv, v)
		}
		if hit {
			if !pos {
				return false
			}
			send = true
		}
	}
	return send
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

// RunAPI runs an API command line the way the event socket does and returns its output:
// `-ERR <cmd> Command not found!` for unknown commands, `-ERR no reply` for empty output.
func RunAPI(ctx context.Context, h *core.Host, line string) string {
	line = strings.TrimSpace(line)
	cmd, args, _ := strings.Cut(line, " ")
	args = strings.TrimSpace(args)
	if _, ok := core.LookupAPI(cmd); !ok {
		return "-ERR " + cmd + " Command not found!\n"
	}
	out, err := h.APIOutput(ctx, cmd, args)
	if out == "" && err != nil {
		return "-ERR " + err.Error() + "\n"
	}
	if out == "" {
		return "-ERR no reply\n"
	}
	return out
}

func (c *conn) apiAllowed(line string) bool {
	if c.allowedAPI == nil {
		return true
	}
	cmd, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return c.allowedAPI[cmd]
}

// api runs `api <line>`. With `console_execute: true` (fs_cli) the line is run like a console
// line: ";;" separates several commands whose outputs are concatenated.
func (c *conn) api(args string, console bool) bool {
	lines := []string{args}
	if console {
		lines = strings.Split(args, ";;")
	}
	var out strings.Builder
	for _, l := range lines {
		if !c.apiAllowed(l) {
			out.WriteString("-ERR permission denied!\n")
			continue
		}
		out.WriteString(RunAPI(c.srv.ctx, c.srv.h, l))
	}
	return c.write(appendAPIResponse(nil, out.String())) == nil
}

func (c *conn) bgapi(args, jobUUID string) bool {
	if jobUUID == "" {
		jobUUID = uuid.NewString()
	}
	if !c.apiAllowed(args) {
		return c.reply("-ERR permission denied!") == nil
	}
	if err := c.reply("+OK Job-UUID: "+jobUUID, event.Header{Name: "Job-UUID", Value: jobUUID}); err != nil {
		return false
	}
	owner := ""
	if c.session != nil {
		owner = c.session.UUID()
	}
	RunBackground(c.srv.ctx, &c.srv.wg, c.srv.h, args, jobUUID, owner)
	return true
}

// RunBackground runs an API command line in a goroutine counted by wg and publishes the output as
// a BACKGROUND_JOB event (Job-UUID, Job-Owner-UUID, Job-Command, Job-Command-Arg; body = output).
func RunBackground(ctx context.Context, wg *sync.WaitGroup, h *core.Host, line, jobUUID, owner string) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		out := RunAPI(ctx, h, line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		e := h.Bus.New(event.BackgroundJob, "")
		e.Add("Job-UUID", jobUUID)
		if owner != "" {
			e.Add("Job-Owner-UUID", owner)
		}
		e.Add("Job-Command", cmd)
		if args = strings.TrimSpace(args); args != "" {
			e.Add("Job-Command-Arg", args)
		}
		e.Body = out
		h.Bus.Publish(e)
	}()
}

// ensureSub creates the connection's bus subscription and its pump on first use.
func (c *conn) ensureSub() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sub != nil {
		return
	}
	c.sub = c.srv.h.Bus.Subscribe(c.match, c.srv.cfg.QueueSize)
	sub := c.sub
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.pumpEvents(sub)
	}()
}

// pumpEvents writes queued events. Events already waiting are written in one batch with one
// flush, so a busy listener costs one write(2) per batch rather than per event.
func (c *conn) pumpEvents(sub *event.Subscription) {
	var frame, scratch []byte
	var warned uint64
	for {
		select {
		case <-c.done:
			return
		case e := <-sub.C():
			sel := c.sel.Load()
			format := "plain"
			if sel != nil {
				format = sel.format
			}
			frame, scratch = appendEventFrame(frame[:0], format, e, scratch)
			for n := 1; n < 256 && len(frame) < 256<<10; n++ {
				select {
				case e = <-sub.C():
					frame, scratch = appendEventFrame(frame, format, e, scratch)
					continue
				default:
				}
				break
			}
			if c.write(frame) != nil {
				_ = c.nc.Close()
				return
			}
			if d := sub.Dropped(); d > warned {
				c.srv.h.Log.Warn("event socket: listener is too slow, events lost", "listener", c.id, "dropped", d)
				warned = d * 2
			}
		}
	}
}

func (c *conn) update(fn func(sel *selection)) {
	c.mu.Lock()
	n := c.sel.Load().clone()
	fn(n)
	c.sel.Store(n)
	c.mu.Unlock()
}

// eventName is switch_name_event: case-insensitive, with or without the SWITCH_EVENT_ prefix.
func eventName(w string) (string, bool) {
	u := strings.ToUpper(w)
	u = strings.TrimPrefix(u, "SWITCH_EVENT_")
	return u, event.IsName(u)
}

func (c *conn) event(args string) bool {
	words := strings.Fields(args)
	format := ""
	if len(words) > 0 {
		switch strings.ToLower(words[0]) {
		case "plain", "json", "xml":
			format = strings.ToLower(words[0])
			words = words[1:]
		}
	}
	keys := 0
	c.update(func(sel *selection) {
		if format != "" {
			sel.format = format
		}
		custom := false
		for _, w := range words {
			if custom {
				sel.subs[w] = true
				continue
			}
			w, ok := eventName(w)
			if !ok {
				continue
			}
			if w == event.All {
				keys++
				sel.all = true
				continue
			}
			keys++
			if w == event.Custom {
				custom = true
			}
			sel.names[w] = true
		}
		if keys > 0 {
			sel.active = true
		}
	})
	if keys == 0 {
		return c.reply("-ERR no keywords supplied") == nil
	}
	c.ensureSub()
	return c.reply("+OK event listener enabled "+c.sel.Load().format) == nil
}

func (c *conn) nixevent(args string) bool {
	words := strings.Fields(args)
	keys := 0
	c.update(func(sel *selection) {
		custom := false
		for _, w := range words {
			if custom {
				delete(sel.subs, w)
				continue
			}
			w, ok := eventName(w)
			if !ok {
				continue
			}
			if w == event.All {
				keys++
				sel.all = false
				sel.names = map[string]bool{}
				sel.subs = map[string]bool{}
				continue
			}
			keys++
			if w == event.Custom {
				custom = true
				continue
			}
			delete(sel.names, w)
			if sel.all { // nixing one event out of ALL keeps the others
				sel.all = false
				for _, n := range event.Names {
					if n != event.All && n != w {
						sel.names[n] = true
					}
				}
			}
		}
	})
	if keys == 0 {
		return c.reply("-ERR no keywords supplied") == nil
	}
	return c.reply("+OK events nixed") == nil
}

func (c *conn) noevents() bool {
	sel := c.sel.Load()
	if sel == nil || !sel.active {
		return c.reply("-ERR not listening for events") == nil
	}
	c.update(func(sel *selection) {
		sel.active, sel.all = false, false
		sel.names, sel.subs = map[string]bool{}, map[string]bool{}
		sel.myUUID = ""
	})
	return c.reply("+OK no longer listening for events") == nil
}

func (c *conn) filter(args string) bool {
	name, val, hasVal := strings.Cut(args, " ")
	val = strings.TrimSpace(val)
	hasVal = hasVal && val != ""
	if strings.EqualFold(name, "delete") && hasVal {
		name, val, hasVal = strings.Cut(val, " ")
		c.update(func(sel *selection) {
			if strings.EqualFold(name, "all") {
				sel.filters = nil
				return
			}
			out := sel.filters[:0]
			for _, f := range sel.filters {
				if strings.EqualFold(f.header, name) && (!hasVal || f.value == val) {
					continue
				}
				out = append(out, f)
			}
			sel.filters = out
		})
		return c.reply("+OK filter deleted. ["+name+"]=["+val+"]") == nil
	}
	if !hasVal {
		return c.reply("-ERR invalid syntax") == nil
	}
	if strings.EqualFold(name, "add") {
		name, val, _ = strings.Cut(val, " ")
	}
	c.update(func(sel *selection) { sel.filters = append(sel.filters, newFilter(name, val)) })
	return c.reply("+OK filter added. ["+name+"]=["+val+"]") == nil
}

func (c *conn) log(args string) bool {
	level := logging.Debug
	if args != "" {
		n, ok := logging.ParseLevel(args)
		if !ok {
			return c.reply("-ERR invalid log level") == nil
		}
		level = n
	}
	if c.allowedAPI != nil && !c.allowedLog {
		return c.reply("-ERR permission denied") == nil
	}
	c.mu.Lock()
	if c.logSub != nil {
		c.logSub.SetLevel(level)
		c.mu.Unlock()
		return c.reply(logReply(args, level)) == nil
	}
	if lh := logging.FromLogger(c.srv.h.Log); lh != nil {
		sub := lh.Subscribe(level, c.srv.cfg.LogQueueSize)
		c.logSub = sub
		end := make(chan struct{})
		c.logEnd = end
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.pumpLogs(sub, end)
		}()
	}
	c.mu.Unlock()
	return c.reply(logReply(args, level)) == nil
}

// logReply echoes the level as the client typed it, as mod_event_socket does ("log 4" gives
// "+OK log level 4 [4]", a bare "log" gives "+OK log level  [7]").
func logReply(typed string, level int) string {
	typed, _, _ = strings.Cut(typed, " ")
	return "+OK log level " + typed + " [" + strconv.Itoa(level) + "]"
}

func (c *conn) nolog() bool {
	c.mu.Lock()
	sub, end := c.logSub, c.logEnd
	c.logSub, c.logEnd = nil, nil
	c.mu.Unlock()
	if sub == nil {
		return c.reply("-ERR not loging") == nil
	}
	sub.Close()
	close(end)
	return c.reply("+OK no longer logging") == nil
}

func (c *conn) pumpLogs(sub *logging.Subscription, end chan struct{}) {
	var b []byte
	for {
		select {
		case <-c.done:
			return
		case <-end:
			return
		case r := <-sub.C():
			if c.session != nil && r.UUID != "" && r.UUID != c.session.UUID() {
				continue
			}
			b = appendLogFrame(b[:0], r)
			if c.write(b) != nil {
				_ = c.nc.Close()
				return
			}
		}
	}
}

func appendLogFrame(b []byte, r *logging.Record) []byte {
	b = append(b, "Content-Type: log/data\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(r.Text)), 10)
	b = append(b, "\nLog-Level: "...)
	b = strconv.AppendInt(b, int64(r.Level), 10)
	ch := 0
	if r.UUID != "" {
		ch = 3 // SWITCH_CHANNEL_ID_SESSION
	}
	b = append(b, "\nText-Channel: "...)
	b = strconv.AppendInt(b, int64(ch), 10)
	b = append(b, "\nLog-File: "...)
	b = append(b, r.File...)
	b = append(b, "\nLog-Func: "...)
	b = append(b, r.Func...)
	b = append(b, "\nLog-Line: "...)
	b = strconv.AppendInt(b, int64(r.Line), 10)
	b = append(b, "\nUser-Data: "...)
	b = append(b, r.UUID...)
	b = append(b, "\n\n"...)
	return append(b, r.Text...)
}

func (c *conn) sendevent(args string, m *Message) bool {
	name := strings.TrimSpace(args)
	if name == "" {
		name = m.Headers.Get("Event-Name")
	}
	name, ok := eventName(name)
	if !ok {
		return c.reply("-ERR invalid event name") == nil
	}
	subclass := ""
	if name == event.Custom {
		subclass = m.Headers.Get("Event-Subclass")
	}
	e := c.srv.h.Bus.New(name, subclass)
	id := m.Headers.Get("Event-UUID")
	if id == "" {
		id = uuid.NewString()
		e.Add("Event-UUID", id)
	}
	for _, hd := range m.Headers {
		switch strings.ToLower(hd.Name) {
		case "content-length", "event-name", "event-subclass", "core-uuid", "event-sequence":
			continue
		}
		e.Add(hd.Name, hd.Value)
	}
	e.Body = m.Body
	return c.replyAfter(func() string {
		c.srv.h.Bus.Publish(e)
		return "+OK " + id
	}) == nil
}

func (c *conn) myevents(args string) bool {
	if sel := c.sel.Load(); sel != nil && sel.myUUID != "" {
		return c.reply("-ERR aready enabled.") == nil // sic, FreeSWITCH's text
	}
	words := strings.Fields(args)
	format := ""
	target := ""
	for _, w := range words {
		switch strings.ToLower(w) {
		case "plain", "json", "xml":
			format = strings.ToLower(w)
		default:
			target = w
		}
	}
	var s *core.Session
	if target != "" {
		var ok bool
		if s, ok = c.srv.h.Session(target); !ok {
			return c.reply("-ERR invalid uuid") == nil
		}
	} else if c.session != nil {
		s = c.session
	} else {
		return c.reply("-ERR invalid uuid") == nil
	}
	c.update(func(sel *selection) {
		if format != "" {
			sel.format = format
		}
		sel.active = true
		sel.myUUID = s.UUID()
		for _, n := range myEventNames {
			sel.names[n] = true
		}
	})
	c.ensureSub()
	return c.reply("+OK Events Enabled") == nil
}

// myEventNames are the events `myevents` subscribes to (mod_event_socket).
var myEventNames = []string{
	event.ChannelAnswer, event.ChannelApplication, event.ChannelBridge, event.ChannelCreate,
	event.ChannelData, event.ChannelDestroy, event.ChannelExecute, event.ChannelExecuteComplete,
	event.ChannelHangup, event.ChannelHangupComplete, event.ChannelOriginate, event.ChannelPark,
	event.ChannelProgress, event.ChannelProgressMedia, event.ChannelState, event.ChannelUnbridge,
	event.ChannelUnpark, event.ChannelCallstate, event.ChannelHold, event.ChannelUnhold,
	event.DetectedSpeech, event.DTMF, event.Notalk, event.Talk, event.PlaybackStart,
	event.PlaybackStop, event.RecordStart, event.RecordStop, event.BackgroundJob,
}
