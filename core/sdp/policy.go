package sdp

import (
	"strings"

	"github.com/goswitch/goswitch/core/media/rtp"
)

// SecureMode is FreeSWITCH's rtp_secure_media setting.
type SecureMode uint8

const (
	SecureForbidden SecureMode = iota // plain RTP only; SAVP lines are refused
	SecureOptional                    // offer SAVP and AVP (the seed's dual offer); accept either
	SecureMandatory                   // SRTP or 488
)

// SecurePolicy is a parsed rtp_secure_media value.
type SecurePolicy struct {
	Mode   SecureMode
	Suites []rtp.SRTPSuite // in preference order; empty = all we support, FreeSWITCH order
}

// ParseSecureMedia parses rtp_secure_media: "", "false", "forbidden", "true", "mandatory",
// "optional", optionally followed by ":" and a list of suites separated by ':' or ','
// ("true:AES_CM_128_HMAC_SHA1_80:AES_CM_128_HMAC_SHA1_32"). Unknown suites are dropped.
func ParseSecureMedia(v string) SecurePolicy {
	mode, list, _ := strings.Cut(strings.TrimSpace(v), ":")
	var p SecurePolicy
	switch strings.ToLower(mode) {
	case "true", "mandatory":
		p.Mode = SecureMandatory
	case "optional":
		p.Mode = SecureOptional
	default:
		p.Mode = SecureForbidden
	}
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == '|' }) {
		if s, ok := rtp.LookupSRTPSuite(strings.TrimSpace(name)); ok {
			p.Suites = append(p.Suites, s)
		}
	}
	return p
}

func (p SecurePolicy) suites() []rtp.SRTPSuite {
	if len(p.Suites) > 0 {
		return p.Suites
	}
	return rtp.SRTPSuites
}

// accepts reports whether suite is allowed and its preference rank.
func (p SecurePolicy) rank(name string) (int, bool) {
	s, ok := rtp.LookupSRTPSuite(name)
	if !ok {
		return 0, false
	}
	for i, x := range p.suites() {
		if x.Name == s.Name {
			return i, true
		}
	}
	return 0, false
}
