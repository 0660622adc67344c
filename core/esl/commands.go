package esl

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/logging"
)

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
		out.WriteString(c.srv.h.RunAPI(c.srv.ctx, l))
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
	c.srv.h.RunBackground(c.srv.ctx, &c.srv.wg, args, jobUUID, owner)
	return true
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
