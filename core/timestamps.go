package core

import (
	"strconv"
	"time"
)

// setTimestamps sets the CDR variables FreeSWITCH stamps at hangup (switch_channel_set_timestamps):
// *_stamp in server local time as %Y-%m-%d %T, *_epoch, *_uepoch, and the durations.
func (s *Session) setTimestamps() {
	t := s.Times()
	end := t.Hungup
	if end.IsZero() {
		end = time.Now()
	}
	stamp := func(n *stampVars, at time.Time) {
		if at.IsZero() {
			s.vars.Set(n.epoch, "0")
			s.vars.Set(n.uepoch, "0")
			return
		}
		s.vars.Set(n.stamp, at.Local().Format("2006-01-02 15:04:05"))
		s.vars.Set(n.epoch, strconv.FormatInt(at.Unix(), 10))
		s.vars.Set(n.uepoch, strconv.FormatInt(at.UnixMicro(), 10))
	}
	p := s.Profile()
	stamp(&stampNames[0], t.Created)
	stamp(&stampNames[1], p.Created)
	stamp(&stampNames[2], t.Answered)
	stamp(&stampNames[3], t.Bridged)
	stamp(&stampNames[4], t.Progress)
	stamp(&stampNames[5], t.ProgressMedia)
	stamp(&stampNames[6], end)

	// Durations in three units; FreeSWITCH computes seconds from truncated epochs.
	set := func(n *stampVars, from, to time.Time) {
		var sec, ms, us int64
		if !from.IsZero() && !to.IsZero() {
			sec = to.Unix() - from.Unix()
			ms = to.UnixMilli() - from.UnixMilli()
			us = to.UnixMicro() - from.UnixMicro()
		}
		s.vars.Set(n.stamp, strconv.FormatInt(sec, 10))
		s.vars.Set(n.epoch, strconv.FormatInt(ms, 10))
		s.vars.Set(n.uepoch, strconv.FormatInt(us, 10))
	}
	dur := func(sec, ms, us string, from, to time.Time) {
		s.vars.Set(sec, strconv.FormatInt(to.Unix()-from.Unix(), 10))
		s.vars.Set(ms, strconv.FormatInt(to.UnixMilli()-from.UnixMilli(), 10))
		s.vars.Set(us, strconv.FormatInt(to.UnixMicro()-from.UnixMicro(), 10))
	}
	dur("duration", "mduration", "uduration", t.Created, end)
	if !t.Answered.IsZero() {
		dur("billsec", "billmsec", "billusec", t.Answered, end)
	} else {
		s.vars.Set("billsec", "0")
		s.vars.Set("billmsec", "0")
		s.vars.Set("billusec", "0")
	}
	set(&durNames[0], t.Created, t.Progress)
	set(&durNames[1], t.Created, t.Answered)
	set(&durNames[2], t.Created, t.Answered)
	set(&durNames[3], t.Created, t.ProgressMedia)
	dur("flow_billsec", "flow_billmsec", "flow_billusec", t.Created, end)
	if app, arg := s.LastApp(); app != "" {
		s.vars.Set("last_app", app)
		s.vars.Set("last_arg", arg)
	}
	// FreeSWITCH sets these when a codec is negotiated; endpoints that do not are covered here, so
	// CDR templates (read_codec, write_codec) never come out empty for a channel that had media.
	if port := s.Port(); port != nil {
		c := port.Codec()
		for _, kv := range [][2]string{{"read_codec", c.Name}, {"write_codec", c.Name},
			{"read_rate", strconv.Itoa(c.SampleRate)}, {"write_rate", strconv.Itoa(c.SampleRate)}} {
			if s.vars.Value(kv[0]) == "" && kv[1] != "" && kv[1] != "0" {
				s.vars.Set(kv[0], kv[1])
			}
		}
	}
	if s.vars.Value("digits_dialed") == "" {
		s.vars.Set("digits_dialed", "none")
	}
	if p.CallerIDName != "" {
		s.vars.Set("caller_id", `"`+p.CallerIDName+`" <`+p.CallerIDNumber+`>`)
	} else {
		s.vars.Set("caller_id", p.CallerIDNumber)
	}
}

// stampVars are one timestamp's three variable names (or one duration's sec/msec/usec), built
// once: setTimestamps runs for every call.
type stampVars struct{ stamp, epoch, uepoch string }

var (
	stampNames = stampTable("_stamp", "_epoch", "_uepoch",
		"start", "profile_start", "answer", "bridge", "progress", "progress_media", "end")
	durNames = stampTable("sec", "msec", "usec", "progress", "answer", "wait", "progress_media")
)

func stampTable(a, b, c string, names ...string) []stampVars {
	out := make([]stampVars, len(names))
	for i, n := range names {
		out[i] = stampVars{n + a, n + b, n + c}
	}
	return out
}
