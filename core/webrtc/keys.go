package webrtc

import (
	"fmt"

	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/pion/dtls/v3"
)

// profileSuites maps the DTLS use_srtp profiles we offer onto the media engine's SDES suites,
// whose contexts the keys go into.
var profileSuites = map[dtls.SRTPProtectionProfile]string{
	dtls.SRTP_AEAD_AES_128_GCM:       "AEAD_AES_128_GCM",
	dtls.SRTP_AES128_CM_HMAC_SHA1_80: "AES_CM_128_HMAC_SHA1_80",
}

// installKeys exports the SRTP master keys (RFC 5764 §4.2: client key, server key, client salt,
// server salt) and gives them to the port as if SDES had negotiated them.
func (s *Session) installKeys(conn *dtls.Conn, client bool) error {
	prof, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return fmt.Errorf("webrtc: DTLS peer negotiated no use_srtp profile")
	}
	name, ok := profileSuites[prof]
	if !ok {
		return fmt.Errorf("webrtc: DTLS use_srtp profile %#x not supported", uint16(prof))
	}
	suite, ok := rtp.LookupSRTPSuite(name)
	if !ok {
		return fmt.Errorf("webrtc: no SRTP suite %s", name)
	}
	st, ok := conn.ConnectionState()
	if !ok {
		return fmt.Errorf("webrtc: DTLS has no connection state")
	}
	kl, sl := suite.KeyLen, suite.SaltLen
	km, err := st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(kl+sl))
	if err != nil {
		return fmt.Errorf("webrtc: export SRTP keys: %w", err)
	}
	ck := rtp.SRTPKey{Suite: suite, Key: km[:kl], Salt: km[2*kl : 2*kl+sl]}
	sk := rtp.SRTPKey{Suite: suite, Key: km[kl : 2*kl], Salt: km[2*kl+sl:]}
	local, remote := sk, ck
	if client {
		local, remote = ck, sk
	}
	if err := s.port.SetSRTP(&local, &remote); err != nil {
		return err
	}
	s.keys = [2]rtp.SRTPKey{local, remote}
	s.profile.Store(&name)
	return nil
}
