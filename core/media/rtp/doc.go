// Package rtp is goswitch's RTP transport: the RTPPort a SIP leg owns (receive, jitter buffer,
// decode, encode, send on the media clock), SRTP (SDES keys, pion's srtp contexts), RTCP and
// RFC 3550 receiver statistics, RFC 4733 telephone events, RFC 3389 comfort noise on the wire,
// symmetric latching, the port allocator, and the packet relay that Bridge uses between two RTP
// legs (with per-packet transcoding and re-packetization).
//
// It does not negotiate (core/sdp turns SDP into the RTPPort setters), does not generate or
// analyse audio itself (tones, noise, in-band DTMF detection and CN levels come from
// core/media/audio), and defines none of the shared types (Frame, Stream, Port, Clock, the codec
// registry are core/media's). github.com/pion/rtp, whose name this package shares, is imported
// as pionrtp.
//
// # SIP endpoint: one RTP leg
//
//	alloc := rtp.NewPortAllocator(rtpIP, 16384, 32768)        // rtp-start-port / rtp-end-port
//	port, err := alloc.Allocate(rtp.RTPConfig{
//		Clock:       host.Clock,                                  // shared media.SoftClock
//		Timeout:     300 * time.Second,                           // rtp_timeout_sec
//		HoldTimeout: 1800 * time.Second,                          // rtp_hold_timeout_sec
//		OnTimeout:   func() { s.Hangup(core.CauseMediaTimeout) }, // MEDIA_TIMEOUT
//	})
//	// port.LocalAddr() goes into the SDP (sdp.Config.Port); then, with an sdp.Result r:
//	port.SetRemote(r.Remote, r.RemoteRTCP)   // symmetric latching may move it (RTPConfig.NoLatch)
//	port.SetCodec(r.Codec, r.TelephoneEventPT)
//	port.SetDirection(r.Direction)          // hold: we stop sending; hold timeout applies
//	port.SetComfortNoise(13)                // only if CN was negotiated and suppress_cng is off
//	if r.Secure { port.SetSRTP(&r.LocalKey, &r.RemoteKey) } // one pion Context per direction
//
// Packets arriving before SetRemote are dropped (they belong to the port's previous call).
// Re-INVITEs call the same setters again: new keys re-key the contexts (repeated keys keep them),
// a new codec rebuilds an active relay, a repeated SDP address keeps the latched one, and the
// outgoing SSRC/seq/ts continue.
// DTMF: SetDTMFMode (RFC 2833 / in-band / INFO), SetInfoSender for SIP INFO, ReceiveDTMF for
// digits that arrived by INFO, OnDTMF for every digit, SetInbandDTMF to detect tones in what
// arrives (start_dtmf; a relayed leg then also decodes a copy) and SetInbandDTMFGenerate to send
// digits as tones (start_dtmf_generate). SetIdleSilence fills ticks the application left empty
// with silence frames (send_silence_when_idle). Stats, String (the pipeline for uuid_dump)
// and Close complete the picture. ListenRTP binds a pair without an allocator (tests, 127.0.0.1:0).
// RTCP: every RTCPInterval the port sends an SR (or RR) whose report block comes from RTPStats,
// RFC 3550's receiver statistics fed by every accepted packet, relayed or not; Stats returns them
// (Lost, FractionLost, RxJitter) with what the far end reports about our stream (Remote*, RTT).
//
// # Relay
//
// media.Bridge(a, b) calls RTPPort.Relay when both legs are RTP ports (relay.go): same codec, or
// same ptime and RTP clock with per-packet transcoding such as PCMU<->PCMA or PCMU<->G722. No
// clock, no jitter buffer; SSRC/seq/ts rewritten, SRTP decrypted and re-encrypted per leg. A
// re-INVITE that gives one relayed leg another ptime or RTP clock keeps the relay: that direction
// is re-packetized (decode, re-frame, encode in the leg's framing).
//
// # Concurrency
//
// RTP is received by poll shards on Linux (poller_linux.go: one goroutine per core waits on an
// epoll set of RTP sockets and drains each ready one with recvmmsg), elsewhere by one reader
// goroutine per port; RTCP has a reader goroutine per port; everything periodic runs on a Clock
// (SoftClock: one goroutine per period per shard). Close stops what a port started. Relayed
// packets are forwarded by whoever received them (no hand-off to another goroutine), so a
// relayed packet costs one receive and one send system call.
package rtp
