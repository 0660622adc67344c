package esl

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// sendmsg queues a command to a channel: execute an application, hang up. In an outbound socket
// without async the reply waits until the application has run, as FreeSWITCH's session thread
// does.
func (c *conn) sendmsg(args string, m *Message) bool {
	target := strings.TrimSpace(args)
	if target == "" {
		target = m.Headers.Get("Unique-ID")
	}
	var s *core.Session
	if target != "" {
		s, _ = c.srv.h.Session(target)
	} else if c.session != nil {
		s = c.session
	}
	if s == nil {
		return c.reply("-ERR invalid session id ["+target+"]") == nil
	}
	h := m.Headers
	switch strings.ToLower(h.Get("call-command")) {
	case "execute":
		app := h.Get("execute-app-name")
		arg := h.Get("execute-app-arg")
		if arg == "" && m.Body != "" {
			arg = m.Body
		}
		if _, ok := core.LookupApp(app); !ok {
			return c.reply("-ERR invalid application ["+app+"]") == nil
		}
		loops, _ := strconv.Atoi(h.Get("loops"))
		if loops <= 0 {
			loops = 1
		}
		async := c.async || strings.EqualFold(h.Get("async"), "true")
		appUUID := h.Get("Event-UUID")
		run := func() { runApp(s, app, arg, loops, appUUID) }
		fail := "-ERR invalid session id [" + s.UUID() + "]"
		if c.exec != nil && s == c.session && !async {
			// the reply waits for the application; its events go out as they happen
			if !c.queue(s, run, true) {
				return c.reply(fail) == nil
			}
			return c.reply("+OK") == nil
		}
		return c.replyAfter(func() string {
			if !c.queue(s, run, false) {
				return fail
			}
			return "+OK"
		}) == nil
	case "hangup":
		return c.replyAfter(func() string {
			s.Hangup(core.ParseCause(h.Get("hangup-cause")))
			return "+OK"
		}) == nil
	case "unicast":
		return c.reply("-ERR unicast is not supported") == nil
	case "nomedia":
		return c.reply("-ERR nomedia is not supported: goswitch always anchors media") == nil
	case "xferext":
		return c.reply("-ERR xferext is not supported") == nil
	}
	return c.reply("-ERR invalid call-command") == nil
}

// queue runs fn on s's goroutine: through the outbound socket's own loop when s is the channel
// this connection controls, else through the session's command queue. wait blocks until fn ran.
func (c *conn) queue(s *core.Session, fn func(), wait bool) bool {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		fn()
	}
	if c.exec != nil && s == c.session {
		select {
		case c.exec <- job:
		case <-s.Context().Done():
			return false
		case <-c.done:
			return false
		}
	} else if !s.Enqueue(job) {
		return false
	}
	if wait {
		select {
		case <-done:
		case <-s.Done():
		case <-c.done:
		}
	}
	return true
}

// connect answers an outbound socket's first command with the channel data.
func (c *conn) connect() bool {
	s := c.session
	if s == nil {
		return c.reply("-ERR command not found") == nil
	}
	e := c.srv.h.Bus.New(event.ChannelData, "")
	s.FillEvent(e, true)
	e.Add("Content-Type", "command/reply")
	e.Add("Reply-Text", "+OK\n")
	mode := "static"
	if c.async {
		mode = "async"
	}
	e.Add("Socket-Mode", mode)
	control := "single-channel"
	if c.full {
		control = "full"
	}
	e.Add("Control", control)
	return c.write(e.Plain()) == nil
}

// socketApp is the `socket <host>[:<port>] [async] [full]` application (mod_event_socket's
// outbound mode). The channel is handed to the program until it disconnects or the channel ends.
func socketApp(ctx context.Context, s *core.Session, args string) error {
	srv, ok := FromHost(s.Host())
	if !ok {
		s.Log().Error("socket: mod_event_socket is not loaded")
		return nil
	}
	fields := strings.Fields(args)
	if len(fields) == 0 {
		s.Log().Error("Invalid socket syntax, use socket <host>[:<port>] [async] [full]")
		return nil
	}
	var async, full bool
	for _, f := range fields[1:] {
		switch strings.ToLower(f) {
		case "async":
			async = true
		case "full":
			full = true
		}
	}
	var nc net.Conn
	var host string
	for _, hp := range strings.Split(fields[0], "|") {
		if _, _, err := net.SplitHostPort(hp); err != nil {
			hp = net.JoinHostPort(strings.Trim(hp, "[]"), strconv.Itoa(srv.cfg.OutboundDefaultPort))
		}
		d := net.Dialer{Timeout: 5 * time.Second}
		var err error
		if nc, err = d.DialContext(ctx, "tcp", hp); err == nil {
			host = hp
			break
		}
		s.Log().Error("Socket Error!", "addr", hp, "err", err)
	}
	if nc == nil {
		return nil
	}
	hostOnly, port, _ := net.SplitHostPort(host)
	s.SetVar("socket_host", hostOnly)
	s.SetVar("socket_port", port)

	c := newConn(srv, nc)
	c.outbound, c.authed, c.async, c.full, c.session = true, true, async, full, s
	c.exec = make(chan func())
	if !srv.add(c) {
		_ = nc.Close()
		return nil
	}
	readerDone := make(chan struct{})
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		defer close(readerDone)
		c.loop()
	}()
	for {
		select {
		case fn := <-c.exec:
			fn()
		case <-readerDone:
			c.close()
			c.mu.Lock()
			resume := c.resume
			c.mu.Unlock()
			if !resume && !core.True(s.Var("socket_resume")) {
				s.Hangup(core.CauseNormalClearing)
			}
			return nil
		case <-ctx.Done():
			if !s.HungUp() { // transfer or break: the program loses the channel
				_ = c.disconnect()
				c.close()
				return nil
			}
			c.endOnHangup(readerDone)
			return nil
		}
	}
}

// endOnHangup sends the disconnect notice when the controlled channel hangs up. Without linger
// the socket closes now; with linger it stays open (so the program receives the final events)
// for the linger time, or until the program disconnects when no time was given.
func (c *conn) endOnHangup(readerDone <-chan struct{}) {
	c.mu.Lock()
	linger, d := c.doLinger, c.linger
	c.mu.Unlock()
	if !linger {
		_ = c.disconnect()
		c.close()
		return
	}
	s := c.session
	var b []byte
	b = append(b, "Content-Type: text/disconnect-notice\nControlled-Session-UUID: "...)
	b = append(b, s.UUID()...)
	b = append(b, "\nContent-Disposition: linger\nChannel-Name: "...)
	b = append(b, s.Name()...)
	b = append(b, "\nLinger-Time: "...)
	secs := int(d / time.Second)
	if d <= 0 {
		secs = -1
	}
	b = strconv.AppendInt(b, int64(secs), 10)
	b = append(b, "\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(disconnectText)), 10)
	b = append(b, "\n\n"...)
	b = append(b, disconnectText...)
	_ = c.write(b)
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		var timeout <-chan time.Time
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-readerDone:
		case <-timeout:
		case <-c.srv.ctx.Done():
		}
		c.close()
	}()
}

// runApp runs a sendmsg execute on s's goroutine, interruptible by uuid_break, uuid_transfer and
// uuid_park. appUUID, when set, is the sendmsg Event-UUID that ESL clients expect back as
// Application-UUID; it is passed the FreeSWITCH way, as the app_uuid channel variable.
func runApp(s *core.Session, app, arg string, loops int, appUUID string) {
	if appUUID != "" {
		s.SetVar("app_uuid", appUUID)
		defer s.UnsetVar("app_uuid")
	}
	_ = s.ExecuteInterruptible(app, arg, loops)
}
