//go:build (linux || darwin || freebsd) && !noopus

package opus

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/goswitch/goswitch/core/media"
)

// PT is the payload type goswitch offers Opus with (FreeSWITCH's mod_opus uses 116 too); in an
// answer the offer's payload type is used.
const PT = 116

const (
	rate    = 48000
	bitrate = 32000
	maxPkt  = 1275 // RFC 6716: the largest Opus packet

	// From opus_defines.h (a stable ABI since libopus 1.0).
	opusOK               = 0
	applicationVOIP      = 2048
	setBitrateRequest    = 4002
	setComplexityRequest = 4010
	setInbandFECRequest  = 4012
	setPacketLossRequest = 4014
)

// Available says libopus was found and Opus is registered.
var Available bool

var loadErr error

// Err says why Opus is absent (nil when Available).
func Err() error { return loadErr }

// The libopus entry points, resolved once at init.
var lib struct {
	encCreate, encCtl, encode, encDestroy uintptr
	decCreate, decode, decDestroy         uintptr
}

func init() {
	if loadErr = load(); loadErr != nil {
		return
	}
	Available = true
	media.RegisterCodec(Codec{})
}

func load() error {
	var h uintptr
	var err error
	for _, name := range []string{"libopus.so.0", "libopus.so", "libopus.0.dylib", "libopus.dylib"} {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL); err == nil {
			break
		}
	}
	if h == 0 {
		return fmt.Errorf("opus: libopus not found (install libopus0): %w", err)
	}
	for _, s := range []struct {
		p    *uintptr
		name string
	}{
		{&lib.encCreate, "opus_encoder_create"}, {&lib.encCtl, "opus_encoder_ctl"},
		{&lib.encode, "opus_encode"}, {&lib.encDestroy, "opus_encoder_destroy"},
		{&lib.decCreate, "opus_decoder_create"}, {&lib.decode, "opus_decode"},
		{&lib.decDestroy, "opus_decoder_destroy"},
	} {
		if *s.p, err = purego.Dlsym(h, s.name); err != nil {
			return fmt.Errorf("opus: %s: %w", s.name, err)
		}
	}
	return nil
}

// errText is opus_strerror's table (opus_defines.h error codes).
var errText = [...]string{"", "invalid argument", "buffer too small", "internal error",
	"corrupted stream", "request not implemented", "invalid state", "memory allocation failed"}

func opusError(what string, code int32) error {
	msg := "unknown error"
	if code < 0 && int(-code) < len(errText) {
		msg = errText[-code]
	}
	return fmt.Errorf("opus: %s: %s (%d)", what, msg, code)
}

// Codec is Opus for the registry.
type Codec struct{}

// Info implements media.Codec: SDP says two channels (RFC 7587 §7); the PCM is mono at 48 kHz.
func (Codec) Info() media.CodecInfo {
	return media.CodecInfo{Name: "opus", PT: PT, ClockRate: rate, SampleRate: rate, Channels: 2,
		Ptime: 20 * time.Millisecond, Fmtp: "useinbandfec=1; stereo=0; sprop-stereo=0"}
}

// NewEncoder implements media.Codec.
func (Codec) NewEncoder() media.Encoder {
	e, err := NewEncoder()
	if err != nil {
		panic(err) // only on out-of-memory: libopus accepts these fixed settings
	}
	return e
}

// NewDecoder implements media.Codec.
func (Codec) NewDecoder() media.Decoder {
	d, err := NewDecoder()
	if err != nil {
		panic(err)
	}
	return d
}

// Encoder is one libopus encoder (C memory, freed when the Encoder is collected). libopus reads
// and writes only the Encoder's own buffers: they are on the heap, which Go does not move, so
// the call's arguments can be prepared once (purego's SyscallN with a fresh argument list
// would allocate it on every call).
type Encoder struct {
	st   uintptr
	pcm  [2880]int16 // 60 ms, the longest frame accepted
	out  [maxPkt]byte
	args [5]uintptr // st, pcm, frame size, out, out size
}

// Decoder is one libopus decoder, with its own buffers as Encoder has.
type Decoder struct {
	st   uintptr
	in   [maxPkt * 3]byte // up to three full-size frames in one packet
	pcm  [5760]int16      // 120 ms, the longest packet
	args [6]uintptr       // st, in, in length, pcm, pcm size, decode_fec
}

// NewEncoder returns a mono 48 kHz VOIP encoder.
func NewEncoder() (*Encoder, error) {
	if !Available {
		return nil, loadErr
	}
	var cerr int32
	st, _, _ := purego.SyscallN(lib.encCreate, rate, 1, applicationVOIP, uintptr(unsafe.Pointer(&cerr)))
	if cerr != opusOK || st == 0 {
		return nil, opusError("encoder", cerr)
	}
	for _, ctl := range [][2]uintptr{{setBitrateRequest, bitrate}, {setInbandFECRequest, 1},
		{setPacketLossRequest, 5}, {setComplexityRequest, 5}} {
		if r, _, _ := purego.SyscallN(lib.encCtl, st, ctl[0], ctl[1]); int32(r) != opusOK {
			purego.SyscallN(lib.encDestroy, st)
			return nil, opusError("encoder settings", int32(r))
		}
	}
	e := &Encoder{st: st}
	e.args = [5]uintptr{st, uintptr(unsafe.Pointer(&e.pcm[0])), 0, uintptr(unsafe.Pointer(&e.out[0])), maxPkt}
	runtime.AddCleanup(e, func(st uintptr) { purego.SyscallN(lib.encDestroy, st) }, st)
	return e, nil
}

// NewDecoder returns a mono 48 kHz decoder.
func NewDecoder() (*Decoder, error) {
	if !Available {
		return nil, loadErr
	}
	var cerr int32
	st, _, _ := purego.SyscallN(lib.decCreate, rate, 1, uintptr(unsafe.Pointer(&cerr)))
	if cerr != opusOK || st == 0 {
		return nil, opusError("decoder", cerr)
	}
	d := &Decoder{st: st}
	d.args = [6]uintptr{st, uintptr(unsafe.Pointer(&d.in[0])), 0, uintptr(unsafe.Pointer(&d.pcm[0])), 0, 0}
	runtime.AddCleanup(d, func(st uintptr) { purego.SyscallN(lib.decDestroy, st) }, st)
	return d, nil
}

// ErrFrame is returned for PCM that is not an Opus frame size (2.5 to 60 ms at 48 kHz).
var ErrFrame = errors.New("opus: not an Opus frame size")

var errEmpty = errors.New("opus: empty destination")

// Encode codes one frame of 48 kHz mono PCM (960 samples for 20 ms).
func (e *Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	switch len(pcm) {
	case 120, 240, 480, 960, 1920, 2880:
	default:
		return 0, ErrFrame
	}
	if len(dst) == 0 {
		return 0, errEmpty
	}
	copy(e.pcm[:], pcm)
	e.args[2] = uintptr(len(pcm))
	r, _, _ := purego.SyscallN(lib.encode, e.args[:]...)
	runtime.KeepAlive(e)
	n := int(int32(r))
	if n < 0 {
		return 0, opusError("encode", int32(n))
	}
	if n > len(dst) {
		return 0, io.ErrShortBuffer
	}
	return copy(dst, e.out[:n]), nil
}

// Decode decodes one packet into dst (up to 120 ms: 5760 samples).
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(dst) == 0 {
		return 0, errEmpty
	}
	if len(payload) > len(d.in) {
		return 0, opusError("decode", -4)
	}
	d.args[1], d.args[2] = uintptr(unsafe.Pointer(&d.in[0])), uintptr(copy(d.in[:], payload))
	if len(payload) == 0 {
		d.args[1] = 0 // a lost packet: conceal
	}
	return d.run(dst)
}

// Conceal fills dst with libopus's packet loss concealment.
func (d *Decoder) Conceal(dst []int16) int {
	frame := len(dst) - len(dst)%120 // PLC wants a multiple of 2.5 ms
	if frame == 0 {
		clear(dst)
		return len(dst)
	}
	d.args[1], d.args[2] = 0, 0
	n, err := d.run(dst[:frame])
	if err != nil {
		n = 0
	}
	clear(dst[n:])
	return len(dst)
}

func (d *Decoder) run(dst []int16) (int, error) {
	d.args[4] = uintptr(min(len(dst), len(d.pcm)))
	r, _, _ := purego.SyscallN(lib.decode, d.args[:]...)
	runtime.KeepAlive(d)
	n := int(int32(r))
	if n < 0 {
		return 0, opusError("decode", int32(n))
	}
	return copy(dst, d.pcm[:n]), nil
}
