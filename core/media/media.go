// This file holds the types the rest of goswitch (package core, endpoints and apps) depends on. The
// engine behind them lives in the other files of this package; doc.go has the overview.

package media

import (
	"context"
	"time"
)

// DTMF is one digit received or to be sent on a leg.
type DTMF struct {
	Digit    rune          // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration // FreeSWITCH reports DTMF-Duration in samples at 8 kHz
	Source   string        // FreeSWITCH DTMF-Source: RTP, INBAND_AUDIO, ENDPOINT, APP, UNKNOWN
}

// Samples returns the duration in 8 kHz samples, the unit of FreeSWITCH's DTMF-Duration header.
func (d DTMF) Samples() int { return int(d.Duration / (time.Second / 8000)) }

// FrameFlags describe a frame's origin.
type FrameFlags uint8

const (
	FrameSilence   FrameFlags = 1 << iota // comfort noise or nothing received
	FrameConcealed                        // produced by packet-loss concealment
	FrameMarker                           // first frame after a gap
	FrameCNG                              // generated comfort noise
)

// Frame is one ptime of linear PCM. PCM is owned by the producer and valid until its next call.
type Frame struct {
	PCM   []int16
	Rate  int
	TS    uint32 // sample clock at Rate
	Flags FrameFlags
}

// Duration returns the frame's length in time.
func (f *Frame) Duration() time.Duration {
	if f.Rate == 0 {
		return 0
	}
	return time.Duration(len(f.PCM)) * time.Second / time.Duration(f.Rate)
}

// Dir tells a Tap which way a frame travels.
type Dir uint8

const (
	DirRead  Dir = iota // from the far end towards goswitch
	DirWrite            // from goswitch towards the far end
)

// Tap observes frames of a Stream ("media bug": record_session, eavesdrop, tone detection).
// OnFrame must not block and must not keep f.PCM after returning.
type Tap interface {
	OnFrame(dir Dir, f *Frame)
}

// Stream is the terminated-media view of a leg, used by applications (playback, record, echo, IVR).
// Reads and writes are paced by the media clock: ReadFrame blocks until the next ptime's frame has
// been decoded; WriteFrame blocks while the outbound queue is full. Both return ctx's error when ctx
// ends, so an application stops as soon as its session hangs up.
type Stream interface {
	ReadFrame(ctx context.Context, f *Frame) error
	WriteFrame(ctx context.Context, f *Frame) error
	Rate() int
	Ptime() time.Duration
	AddTap(t Tap) (remove func())
}

// CodecInfo names a negotiated codec.
type CodecInfo struct {
	Name       string        // "PCMU", "G722", "telephone-event"
	PT         uint8         // payload type as negotiated
	ClockRate  int           // RTP clock (G.722 = 8000)
	SampleRate int           // PCM rate (G.722 = 16000)
	Channels   int           // 1 unless stated
	Ptime      time.Duration // 20 ms unless negotiated otherwise
	Fmtp       string
}

// Port is a leg's media attachment: an RTP socket pair for SIP legs, an in-process pipe for loopback
// legs. The core bridges two ports with Bridge and gives applications the port's Stream.
type Port interface {
	// Codec returns the audio codec in use.
	Codec() CodecInfo
	// Stream returns the terminated-media view; the decode/encode path starts on first use.
	Stream() Stream
	// OnDTMF sets the function called (from the port's goroutine) for every received digit.
	OnDTMF(fn func(DTMF))
	// SendDTMF sends a digit the way the port negotiated (RFC 4733 events or in-band tones).
	SendDTMF(d DTMF) error
	// Close releases sockets and goroutines. It is safe to call more than once.
	Close() error
	// String describes the port's pipeline for logs and uuid_dump.
	String() string
}
