package sdp

// OfferedCodecs lists the audio codecs of an offer that cfg accepts, in the offer's order, as
// FreeSWITCH's ep_codec_string does for an inbound leg: what the caller can do that we can too.
// Bridging, that list (or the codec then negotiated) is the B-leg's originator_codec.
func OfferedCodecs(offer []byte, cfg Config) []CodecPref {
	cfg.defaults()
	_, lines, err := parse(offer)
	if err != nil {
		return nil
	}
	var out []CodecPref
	for _, m := range lines {
		if m.media != "audio" || m.port == 0 {
			continue
		}
		for _, pt := range m.formats {
			r, ok := m.codecAt(pt)
			if !ok || r.name == "TELEPHONE-EVENT" || r.name == "CN" || !cfg.Supported(r.name, r.clock, r.ch) {
				continue
			}
			for _, p := range cfg.Codecs {
				if !p.matches(r.name, r.clock) {
					continue
				}
				c := CodecPref{Name: r.name, Ptime: m.ptime}
				if r.name != "G722" {
					c.Rate = r.clock
				}
				if r.ch > 1 {
					c.Channels = r.ch
				}
				if !hasCodec(out, c) {
					out = append(out, c)
				}
				break
			}
		}
		break // the first audio line is the one answered
	}
	return out
}

func hasCodec(list []CodecPref, c CodecPref) bool {
	ci, _ := c.resolve()
	for _, p := range list {
		if p.matches(c.Name, ci.ClockRate) {
			return true
		}
	}
	return false
}

// MergeCodecs appends b to a, leaving out what a already has (FreeSWITCH's
// "originator_codec,codec_string" with media_mix_inbound_outbound_codecs).
func MergeCodecs(a, b []CodecPref) []CodecPref {
	out := append([]CodecPref(nil), a...)
	for _, c := range b {
		if !hasCodec(out, c) {
			out = append(out, c)
		}
	}
	return out
}
