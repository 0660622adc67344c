// Package opus registers the Opus codec (RFC 7587: "opus/48000/2" in SDP, 48 kHz RTP clock, 20 ms
// frames) with the media codec registry, through the system's libopus (Debian's libopus0, which
// browsers and softphones already pull in), loaded at start with dlopen (ebitengine/purego): a
// thin binding of opus_encode/opus_decode, not a re-implementation, and no C toolchain or
// headers needed to build goswitch. Audio is coded mono (stereo=0), VOIP application, in-band
// FEC on, 32 kbit/s; the decoder conceals lost frames with libopus's PLC. Without libopus (or
// built with -tags noopus) Opus is simply absent: Available is false and calls negotiate the
// other codecs.
package opus
