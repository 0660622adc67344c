package rtp

import (
	"fmt"

	"github.com/goswitch/goswitch/core/media"
)

// repacketizer re-frames one relayed direction whose legs differ in ptime or RTP clock (a
// re-INVITE changed one leg of a relayed bridge): payloads are decoded into a PCM queue and
// re-encoded one target frame at a time, so a 20 ms leg feeds a 30 ms leg with 30 ms packets.
// It runs on the source port's reader goroutine under the target's send lock; all buffers are
// allocated up front, so the steady state allocates nothing.
type repacketizer struct {
	from, to media.CodecInfo
	dec      media.Decoder
	enc      media.Encoder
	rs       *media.Resampler
	pcm, rsd []int16 // one decoded input packet, and the same resampled
	q        []int16 // samples at to.PCMRate() waiting for a full output frame
	n, off   int     // queued samples end and start
	outSPF   int     // PCM samples per output frame
	outRTP   uint32  // RTP timestamp units per output frame

	ssrc     uint32
	anchored bool
	nextIn   uint32 // input timestamp the next contiguous packet carries
	headTS   uint32 // timestamp (on the input timeline, in the output clock) of q[0]
	fresh    bool   // nothing sent yet: the first frame restarts the sequencer's timeline
	gap      bool   // the next packet follows a discontinuity: marker bit
}

const repackMax = 48 * 120 // samples: 120 ms at 48 kHz, the largest packet we accept

func newRepacketizer(from, to media.CodecInfo) (*repacketizer, error) {
	fc, tc, fi, ti, err := media.CodecPair(from, to)
	if err != nil {
		return nil, err
	}
	r := &repacketizer{from: fi, to: ti, dec: fc.NewDecoder(), enc: tc.NewEncoder(), fresh: true}
	r.outSPF, r.outRTP = r.to.SamplesPerFrame(), uint32(r.to.RTPSamplesPerFrame())
	if r.outSPF <= 0 || r.outSPF > repackMax {
		return nil, fmt.Errorf("media: cannot re-packetize to %s", r.to)
	}
	r.pcm = make([]int16, repackMax)
	if r.from.PCMRate() != r.to.PCMRate() {
		r.rs = media.NewResampler(r.from.PCMRate(), r.to.PCMRate())
		r.rsd = make([]int16, repackMax+1)
	}
	r.q = make([]int16, 2*repackMax+r.outSPF)
	return r, nil
}

// inTS converts an input RTP timestamp to the output clock. Same clocks (the usual ptime-only
// change) keep the input timeline as it is, so relayed RFC 4733 events stay in step with audio.
func (r *repacketizer) inTS(ts uint32) uint32 {
	if r.from.ClockRate == r.to.ClockRate || r.from.ClockRate == 0 {
		return ts
	}
	return uint32(uint64(ts) * uint64(r.to.ClockRate) / uint64(r.from.ClockRate))
}

// push decodes one input packet into the queue; pop then yields the complete output frames.
func (r *repacketizer) push(ssrc uint32, ts uint32, payload []byte) {
	if !r.anchored || ssrc != r.ssrc || ts != r.nextIn {
		if d := int32(ts - r.nextIn); r.anchored && ssrc == r.ssrc && d < 0 && -d < int32(max(r.from.ClockRate, 8000)) {
			return // late or duplicate: decoded audio cannot be re-ordered
		}
		// New source, lost packets or a source that restarted its timestamps: the partial frame
		// is dropped (at most one ptime) and the timeline restarts at this packet, as a gap.
		r.gap = r.gap || r.anchored
		r.anchored, r.ssrc, r.n, r.off, r.headTS = true, ssrc, 0, 0, r.inTS(ts)
	}
	n, err := r.dec.Decode(r.pcm, payload)
	if err != nil || n <= 0 {
		r.anchored = false // re-anchor on the next packet; its timestamp tells how much was lost
		return
	}
	r.nextIn = ts + uint32(n*max(r.from.ClockRate, 1)/r.from.PCMRate())
	pcm := r.pcm[:n]
	if r.rs != nil {
		pcm = r.rsd[:r.rs.Process(r.rsd, pcm)]
	}
	r.n = copy(r.q, r.q[r.off:r.n])
	r.off = 0
	if r.n+len(pcm) > len(r.q) {
		r.n = 0 // cannot happen with packets <= 120 ms; never overrun the queue
	}
	r.n += copy(r.q[r.n:], pcm)
}

// pop encodes the next complete output frame into buf; ts is on the input timeline in the
// output clock, gap marks the first frame after a discontinuity.
func (r *repacketizer) pop(buf []byte) (pay []byte, ts uint32, gap, ok bool) {
	for r.n-r.off >= r.outSPF {
		k, err := r.enc.Encode(buf, r.q[r.off:r.off+r.outSPF])
		r.off += r.outSPF
		ts = r.headTS
		r.headTS += r.outRTP
		if err != nil {
			continue
		}
		gap, r.gap = r.gap, false
		return buf[:k], ts, gap, true
	}
	return nil, 0, false, false
}

// interrupt drops the partial frame (comfort noise or our own digits take over the stream): the
// next audio packet restarts the timeline with the marker bit.
func (r *repacketizer) interrupt() {
	if r.anchored {
		r.anchored, r.gap, r.n, r.off = false, true, 0, 0
	}
}

func (r *repacketizer) String() string {
	return fmt.Sprintf("repacketize(%s %s->%s %s)", r.from.Name, r.from.Interval(), r.to.Name, r.to.Interval())
}
