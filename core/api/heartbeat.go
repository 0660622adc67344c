package api

import (
	"context"
	"strconv"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

// DefaultHeartbeat is FreeSWITCH's HEARTBEAT interval (switch.conf event-heartbeat-interval).
const DefaultHeartbeat = 20 * time.Second

// Start implements core.Starter: it publishes FreeSWITCH's HEARTBEAT event every
// event-heartbeat-interval seconds (switch.conf, default 20) until Stop.
func (st *State) Start(context.Context) error {
	iv := DefaultHeartbeat
	if sw := st.h.Config().Configuration("switch.conf"); sw != nil {
		for _, p := range sw.FindElements("settings/param") {
			if p.SelectAttrValue("name", "") == "event-heartbeat-interval" {
				if n, err := strconv.Atoi(p.SelectAttrValue("value", "")); err == nil && n > 0 {
					iv = time.Duration(n) * time.Second
				}
			}
		}
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-st.ctx.Done():
				return
			case <-t.C:
				st.h.Bus.Publish(Heartbeat(st.h, st))
			}
		}
	}()
	return nil
}

// Heartbeat builds a HEARTBEAT event with FreeSWITCH's headers.
func Heartbeat(h *core.Host, st *State) *event.Event {
	since, peak, max, sps := h.SessionStats()
	cur := h.CurrentSPS()
	st.mu.Lock()
	if cur > st.peakSPS {
		st.peakSPS = cur
	}
	peakSPS := st.peakSPS
	st.mu.Unlock()
	up := time.Since(h.Started)
	e := h.Bus.New(event.Heartbeat, "")
	add := func(k string, v int64) { e.Add(k, strconv.FormatInt(v, 10)) }
	e.Add("Event-Info", "System Ready")
	e.Add("Up-Time", upString(up))
	e.Add("FreeSWITCH-Version", fullVersion(h))
	add("Uptime-msec", up.Milliseconds())
	add("Session-Count", int64(h.SessionCount()))
	add("Max-Sessions", max)
	add("Session-Per-Sec", sps)
	add("Session-Per-Sec-Last", cur)
	add("Session-Per-Sec-Max", peakSPS)
	add("Session-Per-Sec-FiveMin", peakSPS)
	add("Session-Since-Startup", int64(since))
	add("Session-Peak-Max", peak)
	add("Session-Peak-FiveMin", peak)
	e.Add("Idle-CPU", strconv.FormatFloat(st.idleCPU(), 'f', 6, 64))
	return e
}
