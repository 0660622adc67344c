package api

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

const noSuchChannel = "-ERR No such channel!\n"

func init() {
	register("uuid_kill", "<uuid> [cause]", "Kill channel", apiUUIDKill)
	register("uuid_bridge", "<uuid> <other_uuid>", "Bridge call legs", apiUUIDBridge)
	register("uuid_transfer", "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]", "Transfer a session", apiUUIDTransfer)
	register("uuid_answer", "<uuid>", "answer", func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
		return answerLike(h, args, w, func(s *core.Session) error { return s.Answer(s.Context()) })
	})
	register("uuid_pre_answer", "<uuid>", "pre_answer", func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
		return answerLike(h, args, w, func(s *core.Session) error { return s.PreAnswer(s.Context()) })
	})
	register("uuid_ring_ready", "<uuid> [queued]", "Sending ringing to a channel", func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
		return answerLike(h, args, w, func(s *core.Session) error { return s.RingReady(s.Context()) })
	})
	register("uuid_park", "<uuid>", "Park channel", apiUUIDPark)
	register("uuid_break", "<uuid> [all]", "Break out of media sent to channel", func(_ context.Context, h *core.Host, args string, w io.Writer) error {
		f := strings.Fields(args)
		if len(f) == 0 {
			return write(w, "-USAGE: <uuid> [all]\n")
		}
		s, ok := session(h, f[0])
		if !ok {
			return write(w, noSuchChannel)
		}
		s.Break()
		return write(w, "+OK\n")
	})
	register("uuid_hold", "[off|toggle] <uuid> [<display>]", "Place call on hold", apiUUIDHold)
	register("uuid_send_dtmf", "<uuid> <dtmf_data>", "Send dtmf to uuid", apiUUIDSendDTMF)
	register("uuid_setvar", "<uuid> <var> [value]", "Set a variable", apiUUIDSetvar)
	register("uuid_setvar_multi", "<uuid> <var>=<value>;<var>=<value>...", "Set multiple variables", apiUUIDSetvarMulti)
	register("uuid_getvar", "<uuid> <var>", "Get a variable from a channel", apiUUIDGetvar)
	register("uuid_dump", "<uuid> [format]", "Dump session vars", apiUUIDDump)
	register("uuid_exists", "<uuid>", "Check if a uuid exists", func(_ context.Context, h *core.Host, args string, w io.Writer) error {
		_, ok := session(h, strings.TrimSpace(args))
		return write(w, strconv.FormatBool(ok))
	})
	register("uuid_record", "<uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]", "Record session audio", apiUUIDRecord)
	register("uuid_broadcast", "<uuid> <path> [aleg|bleg|both]", "Execute dialplan application", apiUUIDBroadcast)
	register("hupall", "<cause> [<var> <value>] [<var2> <value2>]", "hupall", apiHupall)
}

func apiUUIDKill(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) == 0 {
		return write(w, "-USAGE: uuid_kill <uuid> [cause]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	cause := core.CauseNormalClearing
	if len(f) > 1 {
		cause = core.ParseCause(f[1])
	}
	s.Hangup(cause)
	return write(w, "+OK\n")
}

func apiUUIDBridge(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 2 {
		return write(w, "-USAGE: uuid_bridge <uuid> <other_uuid>\n")
	}
	a, ok1 := session(h, f[0])
	b, ok2 := session(h, f[1])
	if !ok2 && len(f) > 2 {
		b, ok2 = session(h, f[2])
	}
	if !ok1 || !ok2 {
		return write(w, "-ERR Invalid uuid\n")
	}
	if err := h.UUIDBridge(a, b); err != nil {
		return write(w, "-ERR "+err.Error()+"\n")
	}
	return write(w, "+OK "+b.UUID()+"\n")
}

func apiUUIDTransfer(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := separate(args, 6)
	if len(f) < 2 {
		return write(w, "-USAGE: uuid_transfer <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	rest := f[1:]
	targets := []*core.Session{s}
	switch rest[0] {
	case "-bleg":
		p := s.Peer()
		if p == nil {
			return write(w, "-ERR\n")
		}
		targets = []*core.Session{p}
		rest = rest[1:]
	case "-both":
		if p := s.Peer(); p != nil {
			targets = append(targets, p)
		}
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return write(w, "-ERR\n")
	}
	get := func(i int) string {
		if i < len(rest) {
			return rest[i]
		}
		return ""
	}
	for _, t := range targets {
		if strings.EqualFold(get(1), "inline") {
			t.ExecuteActions(parseInline(rest[0]))
			continue
		}
		t.Transfer(rest[0], get(1), get(2))
	}
	return write(w, "+OK\n")
}

func answerLike(h *core.Host, args string, w io.Writer, fn func(*core.Session) error) error {
	s, ok := session(h, strings.Fields(args + " x")[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	var err error
	if !onSession(s, 10*time.Second, func() { err = fn(s) }) {
		return write(w, "-ERR Channel is not available\n")
	}
	if err != nil {
		return write(w, "-ERR "+err.Error()+"\n")
	}
	return write(w, "+OK\n")
}

func apiUUIDPark(_ context.Context, h *core.Host, args string, w io.Writer) error {
	s, ok := session(h, strings.TrimSpace(args))
	if !ok {
		return write(w, noSuchChannel)
	}
	s.Park()
	s.Break()
	s.Enqueue(func() {})
	return write(w, "+OK\n")
}

func apiUUIDHold(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	kind := "hold"
	if len(f) > 0 && (f[0] == "off" || f[0] == "toggle") {
		if f[0] == "off" {
			kind = "unhold"
		} else {
			kind = "toggle"
		}
		f = f[1:]
	}
	if len(f) == 0 {
		return write(w, "-USAGE: [off|toggle] <uuid> [<display>]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	if kind == "toggle" {
		kind = "hold"
		if s.CallState() == core.CallHeld {
			kind = "unhold"
		}
	}
	leg := s.Leg()
	if leg == nil {
		return write(w, "-ERR Operation failed\n")
	}
	var err error
	onSession(s, 10*time.Second, func() { err = leg.Indicate(s.Context(), core.Indication{Kind: kind}) })
	if err != nil {
		return write(w, "-ERR Operation failed\n")
	}
	// CHANNEL_HOLD/UNHOLD, and the channel's hold music to its bridged partner (switch_ivr_hold).
	s.MarkHold(kind == "hold")
	return write(w, "+OK Success\n")
}

func apiUUIDSendDTMF(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 2 {
		return write(w, "-USAGE: <uuid> <dtmf_data>\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	digits, durStr, _ := strings.Cut(f[1], "@")
	var dur time.Duration
	if n, err := strconv.Atoi(durStr); err == nil && n > 0 {
		dur = time.Duration(n) * time.Millisecond
	}
	if err := s.SendDTMF(s.Context(), digits, dur); err != nil {
		return write(w, "-ERR "+err.Error()+"\n")
	}
	return write(w, "+OK Success\n")
}

func apiUUIDSetvar(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := separate(args, 3)
	if len(f) < 2 {
		return write(w, "-USAGE: uuid_setvar <uuid> <var> [value]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	if len(f) < 3 || f[2] == "undef" {
		s.UnsetVar(f[1])
	} else {
		s.SetVar(f[1], f[2])
	}
	return write(w, "+OK\n")
}

func apiUUIDSetvarMulti(_ context.Context, h *core.Host, args string, w io.Writer) error {
	id, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	s, ok := session(h, id)
	if !ok {
		return write(w, noSuchChannel)
	}
	for _, kv := range splitUnescaped(rest, ';') {
		k, v, _ := strings.Cut(kv, "=")
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if v == "" {
			s.UnsetVar(k)
		} else {
			s.SetVar(k, v)
		}
	}
	return write(w, "+OK\n")
}

func apiUUIDGetvar(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 2 {
		return write(w, "-USAGE: uuid_getvar <uuid> <var>\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	if v, ok := s.Vars().Get(f[1]); ok {
		return write(w, v)
	}
	return write(w, "_undef_")
}

func apiUUIDDump(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) == 0 {
		return write(w, "-USAGE: uuid_dump <uuid> [format]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	s.SyncRTPStats()
	e := h.Bus.New(event.ChannelData, "")
	s.FillEvent(e, true)
	format := ""
	if len(f) > 1 {
		format = strings.ToLower(f[1])
	}
	switch format {
	case "json":
		return write(w, string(e.JSON()))
	case "xml":
		return write(w, string(e.XML()))
	case "plain":
		return write(w, string(e.Plain()))
	}
	// The text form lists every header decoded, as uuid_dump prints it.
	var b strings.Builder
	for _, hd := range e.Headers {
		b.WriteString(hd.Name + ": " + hd.Value + "\n")
	}
	return write(w, b.String())
}

func apiUUIDRecord(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := separate(args, 5)
	if len(f) < 3 {
		return write(w, "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, "-ERR Cannot locate session!\n")
	}
	var app, data string
	switch strings.ToLower(f[1]) {
	case "start":
		app, data = "record_session", f[2]
		if len(f) > 3 {
			data += " +" + f[3]
		}
	case "stop":
		app, data = "stop_record_session", f[2]
	case "mask", "unmask":
		app, data = f[1]+"_record_session", f[2]
	default:
		return write(w, "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n")
	}
	if _, ok := core.LookupApp(app); !ok {
		return write(w, "-ERR Cannot record session!\n")
	}
	var err error
	if !onSession(s, 10*time.Second, func() { err = s.Execute(s.Context(), app, data) }) || err != nil {
		return write(w, "-ERR Cannot record session!\n")
	}
	return write(w, "+OK Success\n")
}

func apiUUIDBroadcast(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	if len(f) < 2 {
		return write(w, "-USAGE: <uuid> <path> [aleg|bleg|both]\n")
	}
	s, ok := session(h, f[0])
	if !ok {
		return write(w, noSuchChannel)
	}
	path := f[1]
	app, data := "playback", path
	if a, d, ok := strings.Cut(path, "::"); ok {
		app, data = a, d
	}
	targets := []*core.Session{s}
	if len(f) > 2 {
		switch f[2] {
		case "bleg":
			targets = nil
			if p := s.Peer(); p != nil {
				targets = append(targets, p)
			}
		case "both":
			if p := s.Peer(); p != nil {
				targets = append(targets, p)
			}
		}
	}
	for _, t := range targets {
		t := t
		t.Enqueue(func() { _ = t.ExecuteInterruptible(app, data, 1) })
	}
	return write(w, "+OK Message sent\n")
}

func apiHupall(_ context.Context, h *core.Host, args string, w io.Writer) error {
	f := strings.Fields(args)
	cause := core.CauseManagerRequest
	if len(f) > 0 {
		cause = core.ParseCause(f[0])
	}
	if len(f) >= 3 {
		pairs := f[1:]
		match := func(s *core.Session) bool {
			for i := 0; i+1 < len(pairs); i += 2 {
				if s.Var(pairs[i]) != pairs[i+1] {
					return false
				}
			}
			return true
		}
		h.HangupAll(cause, match)
		return writef(w, "+OK hangup all channels matching [%s]=[%s] with cause: %s\n", pairs[0], pairs[1], cause)
	}
	h.HangupAll(cause, nil)
	return writef(w, "+OK hangup all channels with cause %s\n", cause)
}
