// Package telephoneevent registers RFC 4733 "telephone-event/8000" in the codec registry so it
// shows in "show codec" and SDP negotiation can find it, and exposes the payload helpers. The
// events themselves are generated and parsed by core/media/rtp's ports (rtp.TelephoneEvent),
// because DTMF is part of every leg's pipeline; this package is the codec-shaped face of it.
package telephoneevent

import (
	"errors"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
)

func init() { media.RegisterCodec(Codec{}) }

// ErrNotAudio is returned by the Encoder and Decoder: events carry no PCM.
var ErrNotAudio = errors.New("telephone-event: not an audio codec")

// Codec is telephone-event at 8000 Hz.
type Codec struct{}

// Info implements media.Codec; PT 101 is FreeSWITCH's rfc2833-pt default.
func (Codec) Info() media.CodecInfo {
	return media.CodecInfo{Name: "telephone-event", PT: 101, ClockRate: 8000, SampleRate: 8000, Channels: 1,
		Ptime: 20 * time.Millisecond, Fmtp: "0-16"}
}

// NewEncoder implements media.Codec.
func (Codec) NewEncoder() media.Encoder { return nopCoder{} }

// NewDecoder implements media.Codec.
func (Codec) NewDecoder() media.Decoder { return nopCoder{} }

type nopCoder struct{}

func (nopCoder) Encode([]byte, []int16) (int, error) { return 0, ErrNotAudio }
func (nopCoder) Decode([]int16, []byte) (int, error) { return 0, ErrNotAudio }
func (nopCoder) Conceal(dst []int16) int             { clear(dst); return len(dst) }

// Parse decodes an RFC 4733 payload.
func Parse(payload []byte) (rtp.TelephoneEvent, error) { return rtp.ParseTelephoneEvent(payload) }

// Digit maps an event code to its DTMF key; Event is the reverse.
func Digit(ev uint8) (rune, bool) { return rtp.EventDigit(ev) }
func Event(d rune) (uint8, bool)  { return rtp.DigitEvent(d) }
