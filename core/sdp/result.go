package sdp

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// Result is what a negotiation decided, ready to apply to an RTPPort:
//
//	port.SetRemote(r.Remote, r.RemoteRTCP)
//	port.SetCodec(r.Codec, r.TelephoneEventPT)
//	port.SetDirection(r.Direction)
//	if r.Secure { port.SetSRTP(&r.LocalKey, &r.RemoteKey) }
type Result struct {
	MediaIndex       int             // the accepted m-line
	Proto            string          // its transport (RTP/AVP, RTP/SAVP...), kept by Reoffer
	Codec            media.CodecInfo // audio codec with PT and ptime
	TelephoneEventPT uint8           // 0 = no RFC 4733
	ComfortNoisePT   uint8           // RFC 3389 CN both sides agreed to (RTPPort.SetComfortNoise); 0 = none
	Ptime            time.Duration
	Remote           netip.AddrPort // far end RTP (address 0.0.0.0 when on hold)
	RemoteRTCP       netip.AddrPort // a=rtcp or port+1
	Direction        media.Direction
	Hold             bool // the far end put us on hold (sendonly/inactive or c=0.0.0.0)
	Secure           bool
	Suite            string
	Tag              int           // a=crypto tag of the negotiated keys, kept by Reoffer
	LocalKey         rtp.SRTPKey   // encrypts what we send
	RemoteKey        rtp.SRTPKey   // decrypts what we receive
	RemoteHasCrypto  string        // first suite the far end offered (rtp_has_crypto)
	WebRTC           *WebRTCRemote // a DTLS-SRTP line: keys come from the handshake, not LocalKey
}

// Vars returns the FreeSWITCH channel variables describing the result.
func (r *Result) Vars() map[string]string {
	v := map[string]string{
		"rtp_use_codec_name":    r.Codec.Name,
		"rtp_use_codec_rate":    strconv.Itoa(r.Codec.ClockRate),
		"rtp_use_codec_ptime":   strconv.Itoa(int(r.Ptime / time.Millisecond)),
		"rtp_use_pt":            strconv.Itoa(int(r.Codec.PT)),
		"remote_media_ip":       r.Remote.Addr().String(),
		"remote_media_port":     strconv.Itoa(int(r.Remote.Port())),
		"rtp_2833_send_payload": strconv.Itoa(int(r.TelephoneEventPT)),
		"rtp_2833_recv_payload": strconv.Itoa(int(r.TelephoneEventPT)),
		"read_codec":            r.Codec.Name,
		"write_codec":           r.Codec.Name,
		"read_rate":             strconv.Itoa(r.Codec.SampleRate),
		"write_rate":            strconv.Itoa(r.Codec.SampleRate),
	}
	if r.RemoteHasCrypto != "" {
		v["rtp_has_crypto"] = r.RemoteHasCrypto
	}
	if r.WebRTC != nil {
		v["media_webrtc"] = "true"
	}
	if r.Secure {
		v["rtp_secure_media_confirmed"] = "true"
		v["rtp_secure_media_negotiated"] = r.Suite
		v["rtp_has_crypto"] = r.Suite
	}
	return v
}
