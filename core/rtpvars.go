package core

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/goswitch/goswitch/core/media/rtp"
)

// statsPort is a media port that counts what it carries (rtp.RTPPort).
type statsPort interface {
	Stats() rtp.PortStats
}

// rtpTotals sums the counters of the ports of ended calls, for the metrics endpoint; live ports
// are added at scrape time (RTPTotals).
type rtpTotals struct {
	// mu makes moving a port from the live sum to the totals atomic for a scrape, so the
	// counters never step back.
	mu                                           sync.Mutex
	pktIn, pktOut, bytesIn, bytesOut, lost, dtmf atomic.Uint64
}

// RTPTotals are RTP counters summed over every call: ended ones (added at hangup) and live ones.
type RTPTotals struct {
	PacketsIn, PacketsOut, BytesIn, BytesOut, Lost, DTMFIn uint64
	Ports                                                  int     // live ports with counters
	JitterMax, JitterMean                                  float64 // seconds, RFC 3550, over live ports
}

// RTPTotals sums the RTP counters of ended calls and of the live ports now. It walks the session
// table, so it is meant for a scrape, not a packet path.
func (h *Host) RTPTotals() RTPTotals {
	sessions := h.Sessions()
	h.rtp.mu.Lock()
	defer h.rtp.mu.Unlock()
	t := RTPTotals{
		PacketsIn: h.rtp.pktIn.Load(), PacketsOut: h.rtp.pktOut.Load(),
		BytesIn: h.rtp.bytesIn.Load(), BytesOut: h.rtp.bytesOut.Load(),
		Lost: h.rtp.lost.Load(), DTMFIn: h.rtp.dtmf.Load(),
	}
	var jsum float64
	for _, s := range sessions {
		if s.rtpCounted.Load() {
			continue // already in the totals; its port is about to close
		}
		sp, ok := s.Port().(statsPort)
		if !ok || sp == nil {
			continue
		}
		st := sp.Stats()
		t.PacketsIn += st.PacketsIn
		t.PacketsOut += st.PacketsOut
		t.BytesIn += st.BytesIn
		t.BytesOut += st.BytesOut
		t.DTMFIn += st.DTMFIn
		if st.Lost > 0 {
			t.Lost += uint64(st.Lost)
		}
		j := st.RxJitter.Seconds()
		jsum += j
		if j > t.JitterMax {
			t.JitterMax = j
		}
		t.Ports++
	}
	if t.Ports > 0 {
		t.JitterMean = jsum / float64(t.Ports)
	}
	return t
}

// SyncRTPStats sets the channel's rtp_audio_* variables from its port's counters now, as
// FreeSWITCH's set_stats (switch_core_media.c) does at hangup. uuid_dump calls it so a live
// channel shows current numbers.
func (s *Session) SyncRTPStats() {
	sp, ok := s.Port().(statsPort)
	if !ok || sp == nil {
		return
	}
	setRTPVars(s.vars, sp.Stats())
}

// rtpStatsAtHangup sets the rtp_audio_* variables once, before CS_REPORTING (so the CDR and
// CHANNEL_HANGUP_COMPLETE carry them), and adds the port's counters to the host's totals.
func (s *Session) rtpStatsAtHangup() {
	sp, ok := s.Port().(statsPort)
	if !ok || sp == nil || s.rtpCounted.Load() {
		return
	}
	r := &s.h.rtp
	r.mu.Lock()
	st := sp.Stats() // under mu: no scrape can have seen the live port count more than this
	s.rtpCounted.Store(true)
	r.pktIn.Add(st.PacketsIn)
	r.pktOut.Add(st.PacketsOut)
	r.bytesIn.Add(st.BytesIn)
	r.bytesOut.Add(st.BytesOut)
	r.dtmf.Add(st.DTMFIn)
	if st.Lost > 0 {
		r.lost.Add(uint64(st.Lost))
	}
	r.mu.Unlock()
	setRTPVars(s.vars, st)
}

// setRTPVars writes FreeSWITCH's rtp_audio_* set: integers plain, doubles with two decimals.
// What goswitch does not measure is written as FreeSWITCH writes it for a stream without that
// feature (0, and quality 100 / MOS 4.50 for a clean stream).
func setRTPVars(v *Vars, st rtp.PortStats) {
	// Full names, and constant strings for the zeros, keep this to one allocation per counter.
	u := func(name string, n uint64) {
		if n == 0 {
			v.Set(name, "0")
			return
		}
		v.Set(name, strconv.FormatUint(n, 10))
	}
	f := func(name string, x float64) {
		if x == 0 {
			v.Set(name, "0.00")
			return
		}
		v.Set(name, strconv.FormatFloat(x, 'f', 2, 64))
	}
	lost := uint64(0)
	if st.Lost > 0 {
		lost = uint64(st.Lost)
	}
	u("rtp_audio_in_raw_bytes", st.BytesIn)
	u("rtp_audio_in_media_bytes", st.MediaBytesIn)
	u("rtp_audio_in_packet_count", st.PacketsIn)
	u("rtp_audio_in_media_packet_count", st.MediaIn)
	u("rtp_audio_in_skip_packet_count", lost)
	u("rtp_audio_in_jitter_packet_count", st.Jitter.Pushed)
	u("rtp_audio_in_dtmf_packet_count", st.EventsIn)
	u("rtp_audio_in_cng_packet_count", st.CNIn)
	u("rtp_audio_in_flush_packet_count", st.Jitter.Dropped)
	u("rtp_audio_in_largest_jb_size", 0)
	jms := float64(st.RxJitter.Microseconds()) / 1000
	f("rtp_audio_in_jitter_min_variance", jms)
	f("rtp_audio_in_jitter_max_variance", jms)
	lossRate := 0.0
	if exp := st.PacketsIn + lost; exp > 0 {
		lossRate = 100 * float64(lost) / float64(exp)
	}
	f("rtp_audio_in_jitter_loss_rate", lossRate)
	f("rtp_audio_in_jitter_burst_rate", 0)
	f("rtp_audio_in_mean_interval", 0)
	u("rtp_audio_in_flaw_total", lost)
	r := 100 - lossRate
	f("rtp_audio_in_quality_percentage", r)
	f("rtp_audio_in_mos", 1+0.035*r+0.000007*r*(r-60)*(100-r))
	u("rtp_audio_out_raw_bytes", st.BytesOut)
	u("rtp_audio_out_media_bytes", st.MediaBytesOut)
	u("rtp_audio_out_packet_count", st.PacketsOut)
	u("rtp_audio_out_media_packet_count", st.PacketsOut-min(st.CNOut, st.PacketsOut))
	u("rtp_audio_out_skip_packet_count", 0)
	u("rtp_audio_out_dtmf_packet_count", 0)
	u("rtp_audio_out_cng_packet_count", st.CNOut)
	u("rtp_audio_rtcp_packet_count", st.RTCPIn)
	u("rtp_audio_rtcp_octet_count", st.RTCPBytesIn)
}
