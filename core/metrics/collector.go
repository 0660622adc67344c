// Package metrics serves Prometheus metrics and Go's pprof profiles on a loopback HTTP listener
// (switch.conf metrics-listen, goswitch -metrics; default 127.0.0.1:8080).
//
// Everything is read from the host when Prometheus scrapes: the session table, the admission
// refusals, the ban table, the SIP profiles' message counters (atomic adds on the message path,
// no allocation) and the RTP counters of live ports plus those summed at each hangup. A call
// costs nothing extra for the metrics. Rates (calls per second and the like) are PromQL's job:
// rate(goswitch_sessions_total[1m]).
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/store"
)

// SIPCounter is implemented by endpoints that count SIP messages (the sofia endpoint): fn gets
// requests received (code 0) and responses sent (code set), by profile and method.
type SIPCounter interface {
	SIPMessageCounts(fn func(profile, method string, code int, n uint64))
}

// Collector is a prometheus.Collector that reads a host at scrape time.
type Collector struct {
	h *core.Host

	sessions, sessionsTotal, sessionsPeak, sessionsMax *prometheus.Desc
	sessionsPerSecond, calls                           *prometheus.Desc
	registrations                                      *prometheus.Desc
	sipRequests, sipResponses                          *prometheus.Desc
	rtpPackets, rtpBytes, rtpLost, rtpDTMF, rtpJitter  *prometheus.Desc
	rtpPorts, rtpRelayDelay                            *prometheus.Desc
	refused, bansTotal, bans                           *prometheus.Desc
	storeUnavailable                                   *prometheus.Desc
}

// NewCollector returns the collector of h's metrics.
func NewCollector(h *core.Host) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("goswitch_"+name, help, labels, nil)
	}
	return &Collector{
		h:                 h,
		sessions:          d("sessions", "Sessions (channels) now."),
		sessionsTotal:     d("sessions_total", "Sessions created since start; calls per second is rate() of it."),
		sessionsPeak:      d("sessions_peak", "Most sessions at once since start."),
		sessionsMax:       d("sessions_max", "The session limit (switch.conf max-sessions, fsctl max_sessions)."),
		sessionsPerSecond: d("sessions_per_second", "New sessions in the last second, as `status` shows it; for graphs use rate(goswitch_sessions_total[1m])."),
		calls:             d("calls", "Calls now: a bridged pair of sessions counts once, as `show calls count` does."),
		registrations:     d("registrations", "SIP registrations now."),
		sipRequests:       d("sip_requests_total", "SIP requests received, by profile and method.", "profile", "method"),
		sipResponses:      d("sip_responses_total", "SIP responses sent to received requests, by profile, method and status code.", "profile", "method", "code"),
		rtpPackets:        d("rtp_packets_total", "RTP packets, by direction (in: received and accepted, out: sent).", "direction"),
		rtpBytes:          d("rtp_bytes_total", "RTP bytes (headers included), by direction.", "direction"),
		rtpLost:           d("rtp_lost_packets_total", "Received RTP packets lost (RFC 3550 cumulative loss)."),
		rtpDTMF:           d("rtp_dtmf_total", "RFC 4733 digits received."),
		rtpJitter:         d("rtp_jitter_seconds", "RFC 3550 interarrival jitter over the live RTP ports: max and mean.", "stat"),
		rtpPorts:          d("rtp_ports", "Live RTP ports with counters."),
		rtpRelayDelay:     d("rtp_relay_delay_seconds", "Time relayed RTP packets spent in goswitch: kernel arrival on one leg to the send on the other (goswitch's own added jitter)."),
		refused:           d("refused_sessions_total", "New sessions refused with 503 for want of capacity, by reason.", "reason"),
		bansTotal:         d("bans_total", "Source addresses banned since start (auth failures, floods, ban API)."),
		bans:              d("bans", "Bans in force now."),
		storeUnavailable:  d("store_unavailable_total", "Write batches and notification sessions that found the database (PostgreSQL) unreachable; writes are kept and retried."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.sessionsTotal, c.sessionsPeak, c.sessionsMax, c.sessionsPerSecond, c.calls,
		c.registrations, c.sipRequests, c.sipResponses, c.rtpPackets, c.rtpBytes, c.rtpLost, c.rtpDTMF,
		c.rtpJitter, c.rtpPorts, c.rtpRelayDelay, c.refused, c.bansTotal, c.bans, c.storeUnavailable} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	h := c.h
	since, peak, max, _ := h.SessionStats()
	gauge(c.sessions, float64(h.SessionCount()))
	counter(c.sessionsTotal, float64(since))
	gauge(c.sessionsPeak, float64(peak))
	gauge(c.sessionsMax, float64(max))
	gauge(c.sessionsPerSecond, float64(h.CurrentSPS()))
	calls := 0
	for _, s := range h.Sessions() {
		if p := s.Peer(); p == nil || s.UUID() < p.UUID() {
			calls++
		}
	}
	gauge(c.calls, float64(calls))
	gauge(c.registrations, float64(len(h.Registrations())))

	for _, name := range []string{"sofia"} {
		ep, ok := h.Endpoint(name)
		if !ok {
			continue
		}
		if sc, ok := ep.(SIPCounter); ok {
			sc.SIPMessageCounts(func(profile, method string, code int, n uint64) {
				if code == 0 {
					counter(c.sipRequests, float64(n), profile, method)
				} else {
					counter(c.sipResponses, float64(n), profile, method, strconv.Itoa(code))
				}
			})
		}
	}

	rt := h.RTPTotals()
	counter(c.rtpPackets, float64(rt.PacketsIn), "in")
	counter(c.rtpPackets, float64(rt.PacketsOut), "out")
	counter(c.rtpBytes, float64(rt.BytesIn), "in")
	counter(c.rtpBytes, float64(rt.BytesOut), "out")
	counter(c.rtpLost, float64(rt.Lost))
	counter(c.rtpDTMF, float64(rt.DTMFIn))
	gauge(c.rtpJitter, rt.JitterMax, "max")
	gauge(c.rtpJitter, rt.JitterMean, "mean")
	gauge(c.rtpPorts, float64(rt.Ports))
	counts, sum := rtp.RelayDelays()
	buckets := make(map[float64]uint64, len(rtp.RelayDelayBounds))
	var cum uint64
	for i, b := range rtp.RelayDelayBounds {
		cum += counts[i]
		buckets[b.Seconds()] = cum
	}
	ch <- prometheus.MustNewConstHistogram(c.rtpRelayDelay, cum+counts[len(rtp.RelayDelayBounds)], sum.Seconds(), buckets)

	ref := h.Refusals()
	for _, r := range core.RefusalReasons() {
		counter(c.refused, float64(ref[r]), r)
	}
	counter(c.bansTotal, float64(h.Bans.Total()))
	counter(c.storeUnavailable, float64(store.Unavailable()))
	gauge(c.bans, float64(len(h.Bans.List())))
}
