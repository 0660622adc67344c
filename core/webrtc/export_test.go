package webrtc

import (
	"net/netip"

	"github.com/goswitch/goswitch/core/media/rtp"
)

// SelectForTest selects a pair as a check from addr would (two goswitch sessions talking DTLS
// to each other have no ICE controlling side).
func (s *Session) SelectForTest(addr netip.AddrPort) { s.selectPair(addr) }

// KeysForTest returns the exported SRTP keys (local, remote) once Keyed is closed.
func (s *Session) KeysForTest() (rtp.SRTPKey, rtp.SRTPKey) { return s.keys[0], s.keys[1] }
