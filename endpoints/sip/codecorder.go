package sip

import (
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/sdp"
)

// Codec order across a bridge, as FreeSWITCH has it (switch_core_media_prepare_codecs): the
// inbound leg records what its caller offered that we support (ep_codec_string, in the caller's
// order); the B-leg gets the A-leg's codec as originator_codec (the codec in use once the A-leg
// sent its SDP, else that list) and offers it instead of its own list, so a PCMA caller reaches
// the phone with PCMA and the bridge relays rather than transcodes.
// absolute_codec_string still wins; codec_string starting with '=' is taken as it is;
// media_mix_inbound_outbound_codecs=true offers originator_codec then codec_string (or the
// profile's outbound-codec-prefs), which is also the order once the B-leg has answered.

// setEPCodecs records ep_codec_string on an inbound leg from the offer it answered.
func (c *call) setEPCodecs(offer []byte, cfg sdp.Config) {
	if c.s == nil || c.in == nil {
		return
	}
	if list := sdp.OfferedCodecs(offer, cfg); len(list) > 0 {
		c.s.SetVar("ep_codec_string", sdp.FormatCodecString(list))
	}
}

// originatorCodec is what the B-leg of a is told about a's codec: the negotiated one when a
// has answered or sent early media (its SDP is out, the codec is fixed), else what a's caller
// offered.
func originatorCodec(a *core.Session) string {
	if a == nil {
		return ""
	}
	if a.Answered() || a.Early() {
		if name := a.Var("rtp_use_codec_name"); name != "" {
			p := sdp.CodecPref{Name: name}
			if r, err := strconv.Atoi(a.Var("rtp_use_codec_rate")); err == nil && name != "G722" {
				p.Rate = r
			}
			if ms, err := strconv.Atoi(a.Var("rtp_use_codec_ptime")); err == nil && ms > 0 {
				p.Ptime = time.Duration(ms) * time.Millisecond
			}
			return sdp.FormatCodecString([]sdp.CodecPref{p})
		}
	}
	return a.Var("ep_codec_string")
}

// setOriginatorCodec sets originator_codec on a new outbound leg from its A-leg, unless the
// dial string set one.
func setOriginatorCodec(s *core.Session) {
	if _, set := s.Vars().Get("originator_codec"); set {
		return
	}
	if oc := originatorCodec(s.Originator()); oc != "" {
		s.SetVar("originator_codec", oc)
	}
}

// legCodecs resolves the codec list of a leg: absolute_codec_string, else (outbound, before
// answer, without media_mix_inbound_outbound_codecs) originator_codec, else codec_string or the
// profile's list, after originator_codec on an outbound leg.
func legCodecs(profile []sdp.CodecPref, inbound, answering bool, get func(string) string) []sdp.CodecPref {
	if p := sdp.ParseCodecString(get("absolute_codec_string")); len(p) > 0 {
		return p
	}
	var oc []sdp.CodecPref
	if !inbound {
		oc = sdp.ParseCodecString(get("originator_codec"))
	}
	if len(oc) > 0 && !answering && !core.True(get("media_mix_inbound_outbound_codecs")) {
		return oc
	}
	cs := strings.TrimSpace(get("codec_string"))
	if exact, ok := strings.CutPrefix(cs, "="); ok {
		if p := sdp.ParseCodecString(exact); len(p) > 0 {
			return p
		}
	}
	codecs := profile
	if p := sdp.ParseCodecString(cs); len(p) > 0 {
		codecs = p
	}
	if len(oc) > 0 {
		codecs = sdp.MergeCodecs(oc, codecs)
	}
	return codecs
}
