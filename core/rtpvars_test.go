package core

import (
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media/rtp"
)

func TestSetRTPVars(t *testing.T) {
	v := NewVars()
	setRTPVars(v, rtp.PortStats{PacketsIn: 100, BytesIn: 17152, PacketsOut: 90, BytesOut: 15480, DTMFIn: 1,
		MediaIn: 96, MediaBytesIn: 15360, EventsIn: 3, CNIn: 1, MediaBytesOut: 14400, CNOut: 2,
		RTCPIn: 4, RTCPBytesIn: 208, Lost: 5, RxJitter: 1500 * time.Microsecond})
	for name, want := range map[string]string{
		"rtp_audio_in_raw_bytes": "17152", "rtp_audio_in_media_bytes": "15360", "rtp_audio_in_packet_count": "100",
		"rtp_audio_in_media_packet_count": "96", "rtp_audio_in_skip_packet_count": "5", "rtp_audio_in_dtmf_packet_count": "3",
		"rtp_audio_in_cng_packet_count": "1", "rtp_audio_out_cng_packet_count": "2", "rtp_audio_out_media_packet_count": "88",
		"rtp_audio_rtcp_octet_count":       "208",
		"rtp_audio_in_jitter_max_variance": "1.50", "rtp_audio_in_jitter_loss_rate": "4.76",
		"rtp_audio_in_quality_percentage": "95.24", "rtp_audio_out_media_bytes": "14400", "rtp_audio_out_packet_count": "90",
		"rtp_audio_rtcp_packet_count": "4",
	} {
		if got, _ := v.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if mos, _ := v.Get("rtp_audio_in_mos"); mos >= "4.50" || mos < "4.00" {
		t.Errorf("MOS with 4.8%% loss %q", mos)
	}
}

// BenchmarkSetRTPVars is the per-call cost of the hangup counters.
func BenchmarkSetRTPVars(b *testing.B) {
	st := rtp.PortStats{PacketsIn: 1000, BytesIn: 172000, PacketsOut: 1000, BytesOut: 172000}
	b.ReportAllocs()
	for b.Loop() {
		setRTPVars(NewVars(), st)
	}
}
