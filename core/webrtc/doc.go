// Package webrtc is the media side of a WebRTC leg: an ICE-lite agent that answers the browser's
// STUN connectivity checks and a DTLS-SRTP transport (RFC 5763/5764) whose exported keys go into
// the leg's ordinary SRTP contexts. Both ride on the leg's one RTP socket (BUNDLE, rtcp-mux):
// media.RTPPort hands them every datagram whose first byte is not RTP's (RFC 7983), so the RTP
// receive, relay and transcode paths are the same as for any SRTP leg.
//
// A leg's life: New (local ICE credentials; the process certificate gives the fingerprint), the
// SDP carries Local() both ways, Start with the far end's Remote once its SDP is known, then
// Keyed (or Err) reports the handshake; Close ends it with the call.
//
// pion does the protocols: pion/stun for the checks, pion/dtls for the handshake and the
// RFC 5705 exporter. This package only wires them to the port.
package webrtc
