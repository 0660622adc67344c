// Package g711 registers PCMU (u-law, PT 0) and PCMA (A-law, PT 8) with the media codec
// registry, using zaf/g711's per-sample functions into caller buffers (no allocation), and the
// direct A-law <-> u-law tables for PCMU/PCMA bridges.
package g711

import (
	"errors"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/zaf/g711"
)

func init() {
	media.RegisterCodec(Codec{law: ulaw})
	media.RegisterCodec(Codec{law: alaw})
	media.RegisterDirectTranscode("PCMU", "PCMA", UlawToAlaw)
	media.RegisterDirectTranscode("PCMA", "PCMU", AlawToUlaw)
}

type law uint8

const (
	ulaw law = iota
	alaw
)

// ErrShortBuffer is returned when dst cannot hold the result.
var ErrShortBuffer = errors.New("g711: destination too short")

// Codec is PCMU or PCMA.
type Codec struct{ law law }

// PCMU and PCMA are the two codecs, for callers that want them without the registry.
var (
	PCMU = Codec{law: ulaw}
	PCMA = Codec{law: alaw}
)

// Info implements media.Codec.
func (c Codec) Info() media.CodecInfo {
	if c.law == alaw {
		return media.CodecInfo{Name: "PCMA", PT: 8, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: 20 * time.Millisecond}
	}
	return media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: 20 * time.Millisecond}
}

// NewEncoder implements media.Codec.
func (c Codec) NewEncoder() media.Encoder { return coder(c) }

// NewDecoder implements media.Codec.
func (c Codec) NewDecoder() media.Decoder { return &decoder{law: c.law} }

// coder is stateless; encoding needs no per-leg state.
type coder Codec

// Encode implements media.Encoder.
func (c coder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < len(pcm) {
		return 0, ErrShortBuffer
	}
	dst = dst[:len(pcm)]
	if c.law == alaw {
		for i, s := range pcm {
			dst[i] = g711.EncodeAlawFrame(s)
		}
	} else {
		for i, s := range pcm {
			dst[i] = g711.EncodeUlawFrame(s)
		}
	}
	return len(pcm), nil
}

// decoder keeps the last frame for packet loss concealment.
type decoder struct {
	law  law
	last [960]int16
	nl   int
	lost int
}

// Decode implements media.Decoder.
func (d *decoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) < len(payload) {
		return 0, ErrShortBuffer
	}
	dst = dst[:len(payload)]
	if d.law == alaw {
		for i, b := range payload {
			dst[i] = g711.DecodeAlawFrame(b)
		}
	} else {
		for i, b := range payload {
			dst[i] = g711.DecodeUlawFrame(b)
		}
	}
	d.nl = copy(d.last[:], dst)
	d.lost = 0
	return len(payload), nil
}

// Conceal repeats the last frame with falling gain (a simplified G.711 Appendix I idea): the
// first lost frame at 3/4, then halving, silent after four losses.
func (d *decoder) Conceal(dst []int16) int {
	d.lost++
	shift := d.lost + 1
	for i := range dst {
		if d.nl == 0 || d.lost > 4 {
			dst[i] = 0
			continue
		}
		s := int32(d.last[i%d.nl])
		if d.lost == 1 {
			dst[i] = int16(s * 3 / 4)
		} else {
			dst[i] = int16(s >> shift)
		}
	}
	return len(dst)
}

// UlawToAlaw converts a PCMU payload to PCMA through the direct table.
func UlawToAlaw(dst, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = g711.Ulaw2AlawFrame(src[i])
	}
	return n
}

// AlawToUlaw converts a PCMA payload to PCMU through the direct table.
func AlawToUlaw(dst, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = g711.Alaw2UlawFrame(src[i])
	}
	return n
}
