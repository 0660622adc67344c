// Package media is goswitch's media base: the Frame, the Stream an application reads and writes,
// the Port a channel owns, the Clock that paces terminated media, the codec registry (with the
// Transcoder and Resampler built on it), Bridge, and in-process pipe ports.
//
// It does not receive or send packets (core/media/rtp owns RTP, SRTP, RTCP, the jitter buffer and
// the packet relay), and it generates and analyses no audio (tones, comfort noise, in-band DTMF,
// WAV files and the energy measure are in core/media/audio; the one mixer is the conference's).
// It never imports those packages, nor the codecs: codecs under codecs/... register themselves
// (RegisterCodec, RegisterDirectTranscode) and are found by name (LookupCodec, CodecFor).
//
// # Streams and ports
//
// Port.Stream() starts terminated media. ReadFrame returns decoded frames at the stream's rate and
// ptime; WriteFrame takes frames at any rate and resamples and re-frames them (Resampler). Taps
// (AddTap) see both directions for recording and in-band detection. TermStream is the Stream
// implementation shared by the RTP port and the pipe; port implementations feed it with Deliver
// and drain it with Take on their clock tick.
//
//	media.Play(ctx, s, src)    // a Source (tone, WAV, silence) until EOF or ctx ends
//	media.ReadFull(src, pcm)   // fill one frame from a Source
//
// Loopback channels use NewPipe(PipeConfig{Clock: clk}) for two connected Ports.
//
// # Bridging
//
// Bridge(a, b) asks a Relayer port (rtp.RTPPort) to relay packets without decoding; when it
// cannot (pipes, taps, codecs that need more than per-packet transcoding) Bridge copies decoded
// frames between the two Streams. Either way DTMF crosses in the form the other port negotiated
// (ports implement SetDTMFPeer), and each port still reports it to its OnDTMF.
//
// # Concurrency
//
// Everything periodic runs on a Clock (SoftClock: one goroutine per period per shard; FakeClock
// for tests). Streams are safe for one reader and one writer at a time.
package media
