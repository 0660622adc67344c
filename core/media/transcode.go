package media

import (
	"fmt"
	"strings"
	"sync"
)

// DirectTranscode converts a payload of one codec straight into another (A-law <-> u-law tables)
// and returns the bytes written to dst.
type DirectTranscode func(dst, src []byte) int

var directRegistry = struct {
	sync.RWMutex
	m map[string]DirectTranscode
}{m: map[string]DirectTranscode{}}

// RegisterDirectTranscode installs a fast path used by NewTranscoder instead of
// decode -> encode. Called from codec packages' init().
func RegisterDirectTranscode(from, to string, fn DirectTranscode) {
	directRegistry.Lock()
	defer directRegistry.Unlock()
	directRegistry.m[strings.ToUpper(from)+">"+strings.ToUpper(to)] = fn
}

func lookupDirect(from, to string) DirectTranscode {
	directRegistry.RLock()
	defer directRegistry.RUnlock()
	return directRegistry.m[strings.ToUpper(from)+">"+strings.ToUpper(to)]
}

// Transcoder converts payloads between two codecs: decode, resample, encode, all into buffers
// owned by the Transcoder, so the steady state allocates nothing. Not goroutine-safe.
type Transcoder struct {
	from, to  CodecInfo
	direct    DirectTranscode
	dec       Decoder
	enc       Encoder
	rs        *Resampler
	pcm, pcm2 []int16
}

// NewTranscoder prepares a converter from one negotiated codec to another.
func NewTranscoder(from, to CodecInfo) (*Transcoder, error) {
	t := &Transcoder{from: from, to: to}
	if t.direct = lookupDirect(from.Name, to.Name); t.direct != nil {
		return t, nil
	}
	fc, tc, fi, ti, err := CodecPair(from, to)
	if err != nil {
		return nil, err
	}
	t.dec, t.enc = fc.NewDecoder(), tc.NewEncoder()
	t.from, t.to = fi, ti
	t.pcm = make([]int16, 48*120) // 120 ms at 48 kHz
	if t.from.PCMRate() != t.to.PCMRate() {
		t.rs = NewResampler(t.from.PCMRate(), t.to.PCMRate())
		t.pcm2 = make([]int16, 48*120)
	}
	return t, nil
}

// MergeInfo fills fields the SDP did not carry (SampleRate) from the implementation.
func MergeInfo(neg, impl CodecInfo) CodecInfo {
	if neg.SampleRate == 0 {
		neg.SampleRate = impl.SampleRate
	}
	if neg.Channels == 0 {
		neg.Channels = impl.Channels
	}
	return neg
}

// Transcode converts one packet's payload.
func (t *Transcoder) Transcode(dst, src []byte) (int, error) {
	if t.direct != nil {
		return t.direct(dst, src), nil
	}
	n, err := t.dec.Decode(t.pcm, src)
	if err != nil {
		return 0, err
	}
	pcm := t.pcm[:n]
	if t.rs != nil {
		pcm = t.pcm2[:t.rs.Process(t.pcm2, pcm)]
	}
	return t.enc.Encode(dst, pcm)
}

// Conceal produces the target codec's payload standing in for a lost source packet.
func (t *Transcoder) Conceal(dst []byte, samples int) (int, error) {
	if t.direct != nil || t.dec == nil {
		return 0, nil
	}
	n := t.dec.Conceal(t.pcm[:samples])
	pcm := t.pcm[:n]
	if t.rs != nil {
		pcm = t.pcm2[:t.rs.Process(t.pcm2, pcm)]
	}
	return t.enc.Encode(dst, pcm)
}

// String names the conversion ("PCMU->PCMA(direct)").
func (t *Transcoder) String() string {
	if t.direct != nil {
		return fmt.Sprintf("%s->%s(direct)", t.from.Name, t.to.Name)
	}
	if t.rs != nil {
		return fmt.Sprintf("decode(%s)->resample(%d->%d)->encode(%s)", t.from.Name, t.rs.In(), t.rs.Out(), t.to.Name)
	}
	return fmt.Sprintf("decode(%s)->encode(%s)", t.from.Name, t.to.Name)
}
