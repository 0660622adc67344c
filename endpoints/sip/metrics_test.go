package sip

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	_ "github.com/goswitch/goswitch/core/api" // uuid_dump
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/metrics"
)

// scrape fetches url and returns its sample lines: "name{labels}" -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", l, err)
		}
		out[l[:i]] = v
	}
	return out
}

// A call with RTP moves the session, SIP and RTP counters of /metrics, its hangup event carries
// FreeSWITCH's rtp_audio_* variables (issue 16 items 4 and 5), and pprof answers on the same
// loopback listener.
func TestMetricsAndRTPVariablesDuringACall(t *testing.T) {
	env := newEnv(t, envOpt{})
	srv, err := metrics.Listen(env.h, "127.0.0.1:0", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.Addr().String()
	before := scrape(t, base+"/metrics")
	for _, fam := range []string{"goswitch_sessions", "goswitch_sessions_total", "goswitch_registrations",
		"goswitch_calls", "goswitch_sessions_per_second", "goswitch_sessions_max",
		`goswitch_rtp_packets_total{direction="in"}`, `goswitch_refused_sessions_total{reason="max-sessions"}`,
		"goswitch_bans_total", "goswitch_bans", "goswitch_rtp_relay_delay_seconds_count", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := before[fam]; !ok {
			t.Errorf("/metrics has no %s", fam)
		}
	}
	invites := `goswitch_sip_requests_total{method="INVITE",profile="external"}`

	hc := subscribe(env.h, event.ChannelHangupComplete)
	defer hc.Close()
	cdr := make(chan string, 4)
	env.h.OnReporting(func(s *core.Session) { cdr <- s.Expand("${rtp_audio_in_media_bytes},${rtp_audio_out_packet_count}") })

	rec := newRTPRecorder(t)
	dst, hangup := callWithPtime(t, env, "9196", rec, 20)
	const n = 25
	for i := range n {
		rec.send(dst, uint16(100+i), uint32(160*i), make([]byte, 160))
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, "echoed packets", 2*time.Second, func() bool { return len(rec.received()) >= n-2 })
	mid := scrape(t, base+"/metrics")
	if mid["goswitch_sessions"] < 1 || mid["goswitch_sessions_total"] <= before["goswitch_sessions_total"] {
		t.Errorf("sessions did not move: before %v, during the call sessions=%v total=%v",
			before["goswitch_sessions_total"], mid["goswitch_sessions"], mid["goswitch_sessions_total"])
	}
	if mid["goswitch_calls"] != 1 {
		t.Errorf("goswitch_calls = %v during one call", mid["goswitch_calls"])
	}
	if mid[invites] < before[invites]+1 || mid[`goswitch_sip_responses_total{code="200",method="INVITE",profile="external"}`] < 1 {
		t.Errorf("SIP counters did not move: INVITE %v -> %v", before[invites], mid[invites])
	}
	if mid[`goswitch_rtp_packets_total{direction="in"}`] < n-2 || mid["goswitch_rtp_ports"] < 1 {
		t.Errorf("live RTP not counted: in=%v ports=%v", mid[`goswitch_rtp_packets_total{direction="in"}`], mid["goswitch_rtp_ports"])
	}
	if s := findSession(env.h, func(*core.Session) bool { return true }); s == nil {
		t.Error("no session to dump")
	} else {
		out, _ := env.h.APIOutput(context.Background(), "uuid_dump", s.UUID())
		if !regexp.MustCompile(`(?m)^variable_rtp_audio_in_packet_count: [1-9][0-9]*$`).MatchString(out) {
			t.Errorf("uuid_dump of a live call without rtp_audio_in_packet_count:\n%s", out)
		}
	}
	hangup()

	var e *event.Event
	select {
	case e = <-hc.C():
	case <-time.After(5 * time.Second):
		t.Fatal("no CHANNEL_HANGUP_COMPLETE")
	}
	in, _ := strconv.Atoi(e.Get("variable_rtp_audio_in_packet_count"))
	if in < n-2 || in > n {
		t.Errorf("variable_rtp_audio_in_packet_count = %q, want about %d", e.Get("variable_rtp_audio_in_packet_count"), n)
	}
	if got, want := e.Get("variable_rtp_audio_in_media_bytes"), strconv.Itoa(in*160); got != want {
		t.Errorf("variable_rtp_audio_in_media_bytes = %q, want %s", got, want)
	}
	if got, want := e.Get("variable_rtp_audio_in_raw_bytes"), strconv.Itoa(in*172); got != want {
		t.Errorf("variable_rtp_audio_in_raw_bytes = %q, want %s", got, want)
	}
	if out, _ := strconv.Atoi(e.Get("variable_rtp_audio_out_packet_count")); out < n-2 {
		t.Errorf("variable_rtp_audio_out_packet_count = %q", e.Get("variable_rtp_audio_out_packet_count"))
	} else if got, want := e.Get("variable_rtp_audio_out_media_bytes"), strconv.Itoa(out*160); got != want {
		t.Errorf("variable_rtp_audio_out_media_bytes = %q, want %s (echoed 160-byte payloads)", got, want)
	}
	for _, v := range []string{"in_skip_packet_count", "in_jitter_min_variance", "in_mos", "out_media_bytes", "rtcp_octet_count"} {
		if e.Get("variable_rtp_audio_"+v) == "" {
			t.Errorf("no variable_rtp_audio_%s", v)
		}
	}
	if got := e.Get("variable_rtp_audio_in_mos"); got != "4.50" {
		t.Errorf("clean stream's MOS %q, want 4.50", got)
	}
	select {
	case line := <-cdr:
		bytes, out, _ := strings.Cut(line, ",")
		if b, err := strconv.Atoi(bytes); err != nil || b != in*160 {
			t.Errorf("CDR template ${rtp_audio_in_media_bytes} = %q", bytes)
		}
		if o, err := strconv.Atoi(out); err != nil || o < n-2 {
			t.Errorf("CDR template ${rtp_audio_out_packet_count} = %q", out)
		}
	case <-time.After(2 * time.Second):
		t.Error("no reporting hook")
	}
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	after := scrape(t, base+"/metrics")
	if after[`goswitch_rtp_packets_total{direction="in"}`] < float64(in) {
		t.Errorf("RTP of the ended call lost from the totals: %v < %d", after[`goswitch_rtp_packets_total{direction="in"}`], in)
	}
	if after[`goswitch_sip_requests_total{method="BYE",profile="external"}`] < 1 {
		t.Error("BYE not counted")
	}

	res, err := http.Get(base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "goroutine") {
		t.Errorf("/debug/pprof/: %s %.200q", res.Status, body)
	}
	res, err = http.Get(base + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/debug/pprof/heap: %s", res.Status)
	}
}

// A SIPp caller (authenticated INVITE to echo) moves the session and SIP counters: two INVITEs
// (the first challenged with 407), the 407 and 200 sent, the 200's ACK and the BYE.
func TestMetricsCountSIPpCall(t *testing.T) {
	env := newEnv(t, envOpt{})
	srv, err := metrics.Listen(env.h, "127.0.0.1:0", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr().String() + "/metrics"
	before := scrape(t, url)
	callAs1000(t, env, "9196", freeUDPPort(t), 300).wait(t, "call")
	waitFor(t, "call gone", 5*time.Second, func() bool { return env.h.SessionCount() == 0 })
	after := scrape(t, url)
	const p = `profile="internal"`
	for name, want := range map[string]float64{
		"goswitch_sessions_total":                                            1,
		`goswitch_sip_requests_total{method="INVITE",` + p + `}`:             2,
		`goswitch_sip_requests_total{method="ACK",` + p + `}`:                1, // the 407's ACK stays in its transaction
		`goswitch_sip_requests_total{method="BYE",` + p + `}`:                1,
		`goswitch_sip_responses_total{code="407",method="INVITE",` + p + `}`: 1,
		`goswitch_sip_responses_total{code="200",method="INVITE",` + p + `}`: 1,
		`goswitch_sip_responses_total{code="200",method="BYE",` + p + `}`:    1,
	} {
		if got := after[name] - before[name]; got != want {
			t.Errorf("%s moved by %v, want %v", name, got, want)
		}
	}
}
