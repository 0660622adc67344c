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
	stamp := func(name string, at time.Time) {
		if at.IsZero() {
			s.vars.Set(name+"_epoch", "0")
			s.vars.Set(name+"_uepoch", "0")
			return
		}
		s.vars.Set(name+"_stamp", at.Local().Format("2006-01-02 15:04:05"))
		s.vars.Set(name+"_epoch", strconv.FormatInt(at.Unix(), 10))
		s.vars.Set(name+"_uepoch", strconv.FormatInt(at.UnixMicro(), 10))
	}
	p := s.Profile()
	stamp("start", t.Created)
	stamp("profile_start", p.Created)
	stamp("answer", t.Answered)
	stamp("bridge", t.Bridged)
	stamp("progress", t.Progress)
	stamp("progress_media", t.ProgressMedia)
	stamp("end", end)

	// Durations in three units; FreeSWITCH computes seconds from truncated epochs.
	set := func(name string, from, to time.Time) {
		var sec, ms, us int64
		if !from.IsZero() && !to.IsZero() {
			sec = to.Unix() - from.Unix()
			ms = to.UnixMilli() - from.UnixMilli()
			us = to.UnixMicro() - from.UnixMicro()
		}
		s.vars.Set(name+"sec", strconv.FormatInt(sec, 10))
		s.vars.Set(name+"msec", strconv.FormatInt(ms, 10))
		s.vars.Set(name+"usec", strconv.FormatInt(us, 10))
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
	set("progress", t.Created, t.Progress)
	set("answer", t.Created, t.Answered)
	set("wait", t.Created, t.Answered)
	set("progress_media", t.Created, t.ProgressMedia)
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
