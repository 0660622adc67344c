package media

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Codec is an audio codec implementation registered by a package under codecs/.
// Encoders and decoders are per leg and not goroutine-safe; they must not allocate per frame.
type Codec interface {
	Info() CodecInfo
	NewEncoder() Encoder
	NewDecoder() Decoder
}

// Encoder turns one frame of PCM at Info().SampleRate into a payload written to dst.
type Encoder interface {
	Encode(dst []byte, pcm []int16) (int, error)
}

// Decoder turns a payload into PCM at Info().SampleRate.
type Decoder interface {
	Decode(dst []int16, payload []byte) (int, error)
	// Conceal writes len(dst) samples standing in for a lost frame (packet loss concealment).
	Conceal(dst []int16) int
}

// ErrNoCodec is returned when a negotiated codec has no registered implementation.
var ErrNoCodec = errors.New("media: codec not registered")

// ErrNoCommonCodec is returned by negotiation when no codec is acceptable to both sides.
var ErrNoCommonCodec = errors.New("media: no common codec")

// codecRegistry is the init-time codec table: codecs packages fill it from init(), nothing
// writes it afterwards (the database/sql driver pattern).
var codecRegistry = struct {
	sync.RWMutex
	byKey map[codecID]Codec
}{byKey: map[codecID]Codec{}}

// codecID is the registry key: a struct, so a lookup (several per call) builds no string.
type codecID struct {
	name      string // upper case
	clockRate int
	channels  int
}

func (k codecID) String() string { return fmt.Sprintf("%s/%d/%d", k.name, k.clockRate, k.channels) }

func codecKey(name string, clockRate, channels int) codecID {
	if channels == 0 {
		channels = 1
	}
	return codecID{strings.ToUpper(name), clockRate, channels}
}

// RegisterCodec adds c to the registry. It panics on a duplicate name/clock/channels, like
// database/sql.Register, because two packages claiming one codec is a build mistake.
func RegisterCodec(c Codec) {
	info := c.Info()
	k := codecKey(info.Name, info.ClockRate, info.Channels)
	codecRegistry.Lock()
	defer codecRegistry.Unlock()
	if _, dup := codecRegistry.byKey[k]; dup {
		panic("media: codec registered twice: " + k.String())
	}
	codecRegistry.byKey[k] = c
}

// LookupCodec finds a codec by SDP name (case-insensitive), RTP clock rate and channel count.
func LookupCodec(name string, clockRate, channels int) (Codec, bool) {
	codecRegistry.RLock()
	defer codecRegistry.RUnlock()
	c, ok := codecRegistry.byKey[codecKey(name, clockRate, channels)]
	return c, ok
}

// Codecs lists registered codecs sorted by name then rate ("show codec").
func Codecs() []CodecInfo {
	codecRegistry.RLock()
	out := make([]CodecInfo, 0, len(codecRegistry.byKey))
	for _, c := range codecRegistry.byKey {
		out = append(out, c.Info())
	}
	codecRegistry.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ClockRate < out[j].ClockRate
	})
	return out
}

// CodecFor resolves a negotiated CodecInfo to its implementation.
func CodecFor(ci CodecInfo) (Codec, error) {
	c, ok := LookupCodec(ci.Name, ci.ClockRate, ci.Channels)
	if !ok {
		return nil, fmt.Errorf("%w: %s/%d", ErrNoCodec, ci.Name, ci.ClockRate)
	}
	return c, nil
}

// CodecPair looks up both sides of a conversion and fills in what each implementation knows
// (sample rate, channels) on the infos.
func CodecPair(from, to CodecInfo) (fc, tc Codec, fi, ti CodecInfo, err error) {
	if fc, err = CodecFor(from); err != nil {
		return
	}
	if tc, err = CodecFor(to); err != nil {
		return
	}
	return fc, tc, MergeInfo(from, fc.Info()), MergeInfo(to, tc.Info()), nil
}

// SamplesPerFrame is the PCM sample count of one ptime at the codec's PCM rate.
func (ci CodecInfo) SamplesPerFrame() int {
	return ci.PCMRate() * int(ci.Interval().Milliseconds()) / 1000
}

// RTPSamplesPerFrame is the RTP timestamp increment of one ptime (G.722 runs its RTP clock at 8000).
func (ci CodecInfo) RTPSamplesPerFrame() int {
	cr := ci.ClockRate
	if cr == 0 {
		cr = ci.PCMRate()
	}
	return cr * int(ci.Interval().Milliseconds()) / 1000
}

func (ci CodecInfo) PCMRate() int {
	if ci.SampleRate != 0 {
		return ci.SampleRate
	}
	if ci.ClockRate != 0 {
		return ci.ClockRate
	}
	return 8000
}

func (ci CodecInfo) Interval() time.Duration {
	if ci.Ptime <= 0 {
		return 20 * time.Millisecond
	}
	return ci.Ptime
}

// Same reports whether two negotiated codecs carry identical payloads (relay without decoding).
// Fmtp is ignored: for the codecs we carry it never changes the payload format.
func (ci CodecInfo) Same(o CodecInfo) bool {
	return strings.EqualFold(ci.Name, o.Name) && ci.ClockRate == o.ClockRate &&
		max(ci.Channels, 1) == max(o.Channels, 1)
}

// String gives "PCMU/8000 pt=0 20ms".
func (ci CodecInfo) String() string {
	return fmt.Sprintf("%s/%d pt=%d %s", ci.Name, ci.ClockRate, ci.PT, ci.Interval())
}
