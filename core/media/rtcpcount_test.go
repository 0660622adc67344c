package media_test

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// Received RTCP is counted (rtp_audio_rtcp_packet_count / _octet_count at hangup).
func TestRTCPReceivedIsCounted(t *testing.T) {
	r := newRTCPRig(t)
	b, _ := (&rtcp.ReceiverReport{SSRC: 0x1111}).Marshal()
	for range 2 {
		if _, err := r.phoneCtl.WriteToUDPAddrPort(b, r.la.LocalRTCPAddr()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for st := r.la.Stats(); st.RTCPIn < 2; st = r.la.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("RTCP counted %d packets, %d bytes; want 2", st.RTCPIn, st.RTCPBytesIn)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := r.la.Stats(); st.RTCPIn != 2 || st.RTCPBytesIn != uint64(2*len(b)) {
		t.Errorf("RTCP counted %d packets, %d bytes; want 2, %d", st.RTCPIn, st.RTCPBytesIn, 2*len(b))
	}
}
