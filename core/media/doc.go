// Package media is goswitch's media engine: RTP ports, SRTP, jitter buffer, the codec registry,
// relay and transcoding bridges, the mixer, DTMF, tones, WAV files and in-process pipe ports.
//
// # SIP endpoint: one RTP leg
//
//	alloc := media.NewPortAllocator(rtpIP, 16384, 32768)        // rtp-start-port / rtp-end-port
//	port, err := alloc.Allocate(media.RTPConfig{
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
// # Bridging
//
// Bridge(a, b) relays packets between two RTPPorts when it can (same codec, or same ptime and
// RTP clock with per-packet transcoding such as PCMU<->PCMA or PCMU<->G722): no clock, no jitter
// buffer, SSRC/seq/ts rewritten, SRTP decrypted and re-encrypted per leg. Otherwise (pipes, taps,
// differing ptimes) it copies decoded frames between the two Streams. A re-INVITE that later
// gives one relayed leg another ptime or RTP clock keeps the relay: that direction is then
// re-packetized (decode, re-frame, encode in the leg's framing). Either way DTMF crosses in the
// form the other leg negotiated, and each leg still reports it to its OnDTMF.
//
// # Applications
//
// Port.Stream() starts terminated media: socket -> SRTP -> demux (audio, telephone-event, CN) ->
// jitter buffer -> decode -> taps -> ReadFrame; WriteFrame -> encode -> SRTP -> socket, both paced
// by the shared Clock. Frames may be written at any rate; WriteFrame resamples and re-frames.
//
//	g, _ := media.NewToneGenerator("%(2000,4000,440,480)", s.Rate()) // tone_stream:// body
//	media.Play(ctx, s, g)                                            // until EOF or ctx ends
//	r, _ := media.NewWavReader(f); media.Play(ctx, s, r)             // 8/16 kHz PCM, A/u-law
//	w, _ := media.NewWavWriter(f, 8000, media.WavPCM); w.Write(frame.PCM); w.Close()
//	media.Play(ctx, s, media.NewSilence(rate, ms, divisor))          // silence_stream://
//	det := media.NewInbandDetector(rate, fn); remove := s.AddTap(det) // start_dtmf
//	gen, _ := media.NewDTMFTone("123", 100*time.Millisecond, 50*time.Millisecond, rate)
//
// Loopback channels use NewPipe(PipeConfig{Clock: clk}) for two connected Ports. Conferences use
// NewMixer and Mixer.Attach(ctx, stream). Codecs register themselves from the codecs/...
// packages (RegisterCodec, LookupCodec, Codecs); this package never imports them.
//
// # Concurrency
//
// RTP is received by poll shards on Linux (poller_linux.go: one goroutine per core waits on an
// epoll set of RTP sockets and drains each ready one with recvmmsg), elsewhere by one reader
// goroutine per port; RTCP has a reader goroutine per port; everything periodic runs on a Clock
// (SoftClock: one goroutine per period per shard). Close stops what a port started. Relayed
// packets are forwarded by whoever received them (no hand-off to another goroutine), so a
// relayed packet costs one receive and one send system call.
package media
