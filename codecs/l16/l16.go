// Package l16 registers linear 16-bit PCM (RFC 3551 L16, network byte order, mono) at 8, 16 and
// 48 kHz with the media codec registry. It is the codec of loopback legs and of wideband peers
// that negotiate raw PCM.
package l16

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// Rates are the clock rates registered.
var Rates = []int{8000, 16000, 48000}

func init() {
	for _, r := range Rates {
		media.RegisterCodec(Codec{Rate: r})
	}
}

// ErrShortBuffer is returned when dst cannot hold the output.
var ErrShortBuffer = errors.New("l16: destination too short")

// Codec is L16 at one rate.
type Codec struct{ Rate int }

// Info implements media.Codec. L16 has no static payload type; SDP assigns a dynamic one.
func (c Codec) Info() media.CodecInfo {
	return media.CodecInfo{Name: "L16", ClockRate: c.Rate, SampleRate: c.Rate, Channels: 1, Ptime: 20 * time.Millisecond}
}

// NewEncoder implements media.Codec.
func (c Codec) NewEncoder() media.Encoder { return encoder{} }

// NewDecoder implements media.Codec.
func (c Codec) NewDecoder() media.Decoder { return &decoder{} }

type encoder struct{}

// Encode writes big-endian samples.
func (encoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < 2*len(pcm) {
		return 0, ErrShortBuffer
	}
	for i, s := range pcm {
		binary.BigEndian.PutUint16(dst[2*i:], uint16(s))
	}
	return 2 * len(pcm), nil
}

type decoder struct {
	last [1920]int16
	nl   int
	lost int
}

// Decode reads big-endian samples (an odd trailing byte is ignored).
func (d *decoder) Decode(dst []int16, payload []byte) (int, error) {
	n := len(payload) / 2
	if len(dst) < n {
		return 0, ErrShortBuffer
	}
	for i := range n {
		dst[i] = int16(binary.BigEndian.Uint16(payload[2*i:]))
	}
	d.nl = copy(d.last[:], dst[:n])
	d.lost = 0
	return n, nil
}

// Conceal repeats the last frame, fading out over four losses.
func (d *decoder) Conceal(dst []int16) int {
	d.lost++
	for i := range dst {
		if d.nl == 0 || d.lost > 4 {
			dst[i] = 0
			continue
		}
		dst[i] = int16(int(d.last[i%d.nl]) * (5 - d.lost) / 6)
	}
	return len(dst)
}
