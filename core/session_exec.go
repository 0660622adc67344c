package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core/event"
)

// Execute runs one application on the channel, FreeSWITCH style: data is expanded (unless
// app_disable_expand_variables is true), an unanswered inbound channel is pre-answered for apps that
// need media, CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE bracket the run. Call it on the session
// goroutine (applications, dialplan) or through Enqueue.
func (s *Session) Execute(ctx context.Context, app, data string) error {
	info, ok := LookupApp(app)
	if !ok {
		return fmt.Errorf("%w %s", ErrUnknownApp, app)
	}
	data, scoped := splitScoped(data)
	if s.Var("app_disable_expand_variables") != "true" {
		data = s.Expand(data)
	}
	if len(scoped) > 0 {
		s.mu.Lock()
		prev := s.scoped
		s.scoped = scoped
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.scoped = prev
			s.mu.Unlock()
		}()
	}
	if info.Flags&AppNoMedia == 0 && s.direction == Inbound && !s.Answered() && !s.Early() {
		if err := s.PreAnswer(ctx); err != nil {
			s.log.Warn("pre-answer failed", "app", app, "err", err)
		}
	}
	s.applyIdleSilence()
	// FreeSWITCH takes the id from app_uuid when a controller (ESL sendmsg Event-UUID) set it, so
	// clients can match CHANNEL_EXECUTE_COMPLETE to their request.
	appUUID := s.vars.Value("app_uuid")
	if appUUID != "" {
		s.vars.Unset("app_uuid")
	} else {
		appUUID = uuid.NewString()
	}
	s.mu.Lock()
	s.appName, s.appData = app, data
	s.lastApp, s.lastArg = app, data
	s.mu.Unlock()
	s.vars.Set("current_application", app)
	s.vars.Set("current_application_data", data)
	s.vars.Unset("current_application_response")
	s.log.Debug(fmt.Sprintf("EXECUTE [depth=0] %s %s(%s)", s.Name(), app, data))
	s.publishChannel(event.ChannelExecute, func(e *event.Event) {
		e.Add("Application", app)
		e.Add("Application-Data", data)
		e.Add("Application-UUID", appUUID)
	})
	err := info.App.Exec(ctx, s, data)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("application failed", "app", app, "err", err)
	}
	resp := s.vars.Value("current_application_response")
	if resp == "" {
		resp = "_none_"
	}
	s.publishChannel(event.ChannelExecuteComplete, func(e *event.Event) {
		e.Add("Application", app)
		e.Add("Application-Data", data)
		e.Add("Application-Response", resp)
		e.Add("Application-UUID", appUUID)
	})
	s.mu.Lock()
	s.appName, s.appData = "", ""
	s.mu.Unlock()
	return err
}

// ExecuteInline runs a routing-safe application during the dialplan hunt.
func (s *Session) ExecuteInline(ctx context.Context, app, data string) error {
	info, ok := LookupApp(app)
	if !ok {
		return fmt.Errorf("%w %s", ErrUnknownApp, app)
	}
	if info.Flags&AppRoutingSafe == 0 {
		return ErrNotInline
	}
	return s.Execute(ctx, app, data)
}

// LastApp returns the last application executed and its data (CDR last_app/last_arg).
func (s *Session) LastApp() (app, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastApp, s.lastArg
}

// splitScoped peels FreeSWITCH's "%[a=b,c=d]" prefix, whose variables last for one application.
func splitScoped(data string) (string, map[string]string) {
	if !strings.HasPrefix(data, "%[") {
		return data, nil
	}
	end := strings.IndexByte(data, ']')
	if end < 0 {
		return data, nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(data[2:end], ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[strings.TrimSpace(k)] = v
		}
	}
	return data[end+1:], m
}

// eventsWithVars are the channel events that carry every variable_* header (FreeSWITCH's list).
var eventsWithVars = map[string]bool{
	event.ChannelCreate: true, event.ChannelOriginate: true, event.ChannelUUID: true,
	event.ChannelAnswer: true, event.ChannelPark: true, event.ChannelUnpark: true,
	event.ChannelBridge: true, event.ChannelUnbridge: true, event.ChannelProgress: true,
	event.ChannelProgressMedia: true, event.ChannelHangup: true, event.ChannelHangupComplete: true,
	event.RequestParams: true, event.ChannelData: true, event.ChannelExecute: true,
	event.ChannelExecuteComplete: true, event.ChannelDestroy: true, event.SessionHeartbeat: true,
	event.API: true, event.RecordStart: true, event.RecordStop: true, event.PlaybackStart: true,
	event.PlaybackStop: true, event.CallUpdate: true, event.MediaBugStart: true,
	event.MediaBugStop: true, event.ChannelHold: true, event.ChannelUnhold: true, event.Text: true,
	event.Custom: true, event.ChannelApplication: true,
}

// NewEvent creates an event carrying this channel's data (and its variables where FreeSWITCH
// includes them). Add headers and publish it with Host().Bus.Publish.
func (s *Session) NewEvent(name, subclass string) *event.Event {
	e := s.h.Bus.New(name, subclass)
	s.FillEvent(e, eventsWithVars[name] || s.vars.Value("verbose_events") == "true")
	return e
}

// publishChannel publishes a channel event, with extra headers after the channel data. Nobody
// who could take it (no event socket client listening for it, no presence for this channel)
// means nothing to build.
func (s *Session) publishChannel(name string, extra func(*event.Event)) {
	if !s.h.Bus.WantsChannel(name, s.vars.Value("presence_id") != "") {
		return
	}
	e := s.NewEvent(name, "")
	if extra != nil {
		extra(e)
	}
	s.h.Bus.Publish(e)
}

// answerState is FreeSWITCH's Answer-State header value.
func (s *Session) answerState() string {
	switch {
	case s.HungUp():
		return "hangup"
	case s.Answered():
		return "answered"
	case s.Early():
		return "early"
	default:
		return "ringing"
	}
}

// FillEvent adds the channel data headers (switch_channel_event_set_data) in FreeSWITCH's order.
func (s *Session) FillEvent(e *event.Event, withVars bool) {
	st := s.State()
	cs := s.CallState()
	s.mu.Lock()
	name, p, cause, hungup, times := s.name, *s.profile, s.cause, s.hungup, s.times
	s.mu.Unlock()
	e.Add("Channel-State", st.String())
	e.Add("Channel-Call-State", cs.String())
	e.Add("Channel-State-Number", strconv.Itoa(int(st)))
	e.Add("Channel-Name", name)
	e.Add("Unique-ID", s.uuid)
	e.Add("Call-Direction", s.direction.String())
	e.Add("Presence-Call-Direction", s.direction.String())
	e.Add("Channel-HIT-Dialplan", strconv.FormatBool(s.direction == Inbound))
	if pid := s.vars.Value("presence_id"); pid != "" {
		e.Add("Channel-Presence-ID", pid)
	}
	e.Add("Channel-Call-UUID", cmp.Or(s.vars.Value("call_uuid"), s.uuid))
	e.Add("Answer-State", s.answerState())
	if hungup {
		e.Add("Hangup-Cause", cause.String())
	}
	if port := s.Port(); port != nil {
		c := port.Codec()
		rate := strconv.Itoa(c.SampleRate)
		bitRate := strconv.Itoa(codecBitRate(c.Name, c.SampleRate))
		e.Add("Channel-Read-Codec-Name", c.Name)
		e.Add("Channel-Read-Codec-Rate", rate)
		e.Add("Channel-Read-Codec-Bit-Rate", bitRate)
		e.Add("Channel-Write-Codec-Name", c.Name)
		e.Add("Channel-Write-Codec-Rate", rate)
		e.Add("Channel-Write-Codec-Bit-Rate", bitRate)
	}
	addProfileHeaders(e, "Caller", s.direction, &p, times)
	if peer := s.otherLeg(); peer != nil {
		typ := "originatee"
		if peer == s.Originator() {
			typ = "originator"
		}
		e.Add("Other-Type", typ)
		pp := peer.Profile()
		addProfileHeaders(e, "Other-Leg", peer.direction, &pp, peer.Times())
	}
	if withVars {
		e.Headers = slices.Grow(e.Headers, s.vars.Len())
		s.vars.AppendHeaders(e.Add)
	}
}

// otherLeg is the partner FreeSWITCH reports as Other-Leg: the bridged peer, else the originator or
// originatee.
func (s *Session) otherLeg() *Session {
	if p := s.Peer(); p != nil {
		return p
	}
	if o := s.Originator(); o != nil {
		return o
	}
	return s.Originatee()
}

// profileHeaderNames are the caller-profile header suffixes in FreeSWITCH's order; the full names
// for each prefix are built once.
var profileHeaderNames = []string{
	"Direction", "Logical-Direction", "Username", "Dialplan", "Caller-ID-Name", "Caller-ID-Number",
	"Orig-Caller-ID-Name", "Orig-Caller-ID-Number", "Callee-ID-Name", "Callee-ID-Number",
	"Network-Addr", "ANI", "Destination-Number", "Unique-ID", "Source", "Transfer-Source", "Context",
	"RDNIS", "Channel-Name", "Profile-Index", "Profile-Created-Time", "Channel-Created-Time",
	"Channel-Answered-Time", "Channel-Progress-Time", "Channel-Progress-Media-Time",
	"Channel-Hangup-Time", "Channel-Transfer-Time", "Channel-Resurrect-Time", "Channel-Bridged-Time",
	"Channel-Last-Hold", "Channel-Hold-Accum", "Screen-Bit", "Privacy-Hide-Name", "Privacy-Hide-Number",
}

var profileHeaders = map[string][]string{"Caller": prefixed("Caller"), "Other-Leg": prefixed("Other-Leg")}

func prefixed(prefix string) []string {
	out := make([]string, len(profileHeaderNames))
	for i, n := range profileHeaderNames {
		out[i] = prefix + "-" + n
	}
	return out
}

func addProfileHeaders(e *event.Event, prefix string, dir Direction, p *CallerProfile, t Times) {
	names := profileHeaders[prefix]
	values := [...]string{
		dir.String(), dir.String(), p.Username, p.Dialplan, p.CallerIDName, p.CallerIDNumber,
		p.OrigCallerIDName, p.OrigCallerIDNum, p.CalleeIDName, p.CalleeIDNumber,
		p.NetworkAddr, p.ANI, p.DestNumber, p.UUID, p.Source, p.TransferSource, p.Context,
		p.RDNIS, p.ChanName, strconv.Itoa(p.ProfileIndex), epochMicros(p.Created), epochMicros(t.Created),
		epochMicros(t.Answered), epochMicros(t.Progress), epochMicros(t.ProgressMedia),
		epochMicros(t.Hungup), epochMicros(t.Transferred), "0", epochMicros(t.Bridged),
		"0", "0", "true", strconv.FormatBool(p.PrivacyHideName), strconv.FormatBool(p.PrivacyHideNum),
	}
	for i, v := range values {
		e.Add(names[i], v)
	}
}

func codecBitRate(name string, rate int) int {
	switch strings.ToUpper(name) {
	case "PCMU", "PCMA", "G722":
		return 64000
	case "L16":
		return rate * 16
	}
	return 0
}

// IsUnknownApp reports whether err says an application does not exist.
func IsUnknownApp(err error) bool { return errors.Is(err, ErrUnknownApp) }
