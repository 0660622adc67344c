package sdp

import (
	"net/netip"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// Config is our side of a negotiation: where our RTP port is and what we accept.
type Config struct {
	IP          netip.Addr // address in c= and o= (ext-rtp-ip when behind NAT)
	Port        int        // our RTP port (RTPPort.LocalAddr().Port()); RTCP is Port+1
	SessionID   uint64     // o= session id; 0 = derived from the time
	Version     uint64     // o= version; bump it for every re-offer
	Username    string     // o= user; default "FreeSWITCH"
	SessionName string     // s=; default "FreeSWITCH"

	// Codecs lists acceptable codecs in preference order (codec prefs, codec_string or
	// absolute_codec_string parsed with ParseCodecString).
	Codecs []CodecPref
	// Greedy answers with our first preference present in the offer (inbound-codec-negotiation
	// "greedy"); the default "generous" takes the offerer's first acceptable codec.
	Greedy bool
	// TelephoneEventPT is the RFC 4733 payload type we offer (FreeSWITCH rfc2833-pt, 101);
	// 0 offers and accepts no telephone-event (DTMF goes in-band or INFO).
	TelephoneEventPT uint8
	// ComfortNoisePT is the RFC 3389 payload type we offer and accept (FreeSWITCH cng-pt, 13 =
	// CN/8000); 0 neither offers nor answers CN (suppress_cng, profile suppress-cng).
	ComfortNoisePT uint8
	Ptime          time.Duration   // default 20 ms
	Direction      media.Direction // what we want (hold: SendOnly)
	Secure         SecurePolicy
	RTCP           bool // add a=rtcp:<Port+1>
	// LocalKey is the SRTP key we already send with (re-INVITE, UPDATE): an answer whose
	// suite matches reuses it, so a refresh or hold does not reset the far end's SRTP context.
	LocalKey *rtp.SRTPKey
	// CryptoInAVP makes SecureOptional offer one RTP/AVP line carrying the a=crypto lines
	// (best-effort SDES, as baresip's mediaenc=srtp does) instead of the dual SAVP+AVP offer:
	// half the size, for UDP INVITEs that must stay under 1300 bytes.
	CryptoInAVP bool
	// WebRTC, when set, lets us answer DTLS-SRTP (UDP/TLS/RTP/SAVPF) lines and makes BuildOffer
	// offer one (media_webrtc): the ICE-lite agent and DTLS identity of the leg (webrtc.go).
	WebRTC *WebRTCLocal
	// Supported filters codecs we can actually run; nil uses the media codec registry.
	Supported func(name string, clockRate, channels int) bool
}

func (c *Config) defaults() {
	if c.Username == "" {
		c.Username = "FreeSWITCH"
	}
	if c.SessionName == "" {
		c.SessionName = "FreeSWITCH"
	}
	if c.SessionID == 0 {
		c.SessionID = uint64(time.Now().Unix())
	}
	if c.Version == 0 {
		c.Version = c.SessionID + 1
	}
	if c.Ptime == 0 {
		c.Ptime = 20 * time.Millisecond
	}
	if c.Supported == nil {
		c.Supported = func(name string, clock, ch int) bool {
			_, ok := media.LookupCodec(name, clock, ch)
			return ok
		}
	}
}
