package media

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// TermStream is the Stream of a terminated leg (RTP port or pipe end). Its owner's clock tick
// feeds decoded frames in with deliver and takes frames to encode out with take; applications
// block in ReadFrame/WriteFrame, so they run at exactly the media clock's pace.
type TermStream struct {
	rate    int
	ptime   time.Duration
	samples int

	in  *frameQueue // decoded frames waiting for ReadFrame
	out *frameQueue // frames written by the application, waiting for the clock

	readBuf []int16

	wmu     sync.Mutex // serialises WriteFrame callers (pending/resampler state)
	pending []int16
	rs      *Resampler
	rsBuf   []int16

	taps    atomic.Pointer[[]Tap]
	tapMu   sync.Mutex
	tapFr   Frame // reused frame handed to taps (owned by the clock goroutine)
	started atomic.Bool
}

const (
	inDepth  = 5 // 100 ms at 20 ms: a reader that falls further behind loses the oldest audio
	outDepth = 2 // WriteFrame blocks once 40 ms are queued, which paces file playback
)

func NewTermStream(rate int, ptime time.Duration) *TermStream {
	spf := rate * int(ptime/time.Millisecond) / 1000
	return &TermStream{
		rate: rate, ptime: ptime, samples: spf,
		in:      newFrameQueue(inDepth, spf),
		out:     newFrameQueue(outDepth, spf),
		readBuf: make([]int16, 0, spf),
		pending: make([]int16, 0, 2*spf),
	}
}

func (s *TermStream) Rate() int            { return s.rate }
func (s *TermStream) Ptime() time.Duration { return s.ptime }

// ReadFrame blocks until the clock delivers the next frame.
func (s *TermStream) ReadFrame(ctx context.Context, f *Frame) error {
	s.started.Store(true)
	pcm, ts, fl, err := s.in.pop(ctx, s.readBuf)
	if err != nil {
		return err
	}
	s.readBuf = pcm
	f.PCM, f.Rate, f.TS, f.Flags = pcm, s.rate, ts, fl
	return nil
}

// WriteFrame queues f for sending, converting its rate and re-framing to the stream's ptime.
func (s *TermStream) WriteFrame(ctx context.Context, f *Frame) error {
	s.started.Store(true)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	pcm := f.PCM
	if f.Rate != 0 && f.Rate != s.rate {
		if s.rs == nil || s.rs.In() != f.Rate {
			s.rs = NewResampler(f.Rate, s.rate)
		}
		need := s.rs.OutLen(len(pcm))
		if cap(s.rsBuf) < need {
			s.rsBuf = make([]int16, need)
		}
		n := s.rs.Process(s.rsBuf[:need], pcm)
		pcm = s.rsBuf[:n]
	}
	if len(s.pending) == 0 && len(pcm) == s.samples {
		return s.out.push(ctx, pcm, f.TS, f.Flags)
	}
	s.pending = append(s.pending, pcm...)
	for len(s.pending) >= s.samples {
		if err := s.out.push(ctx, s.pending[:s.samples], 0, f.Flags); err != nil {
			return err
		}
		s.pending = append(s.pending[:0], s.pending[s.samples:]...)
	}
	return nil
}

// AddTap attaches a media bug; remove detaches it.
func (s *TermStream) AddTap(t Tap) (remove func()) {
	s.tapMu.Lock()
	defer s.tapMu.Unlock()
	old := s.taps.Load()
	var n []Tap
	if old != nil {
		n = append(n, *old...)
	}
	n = append(n, t)
	s.taps.Store(&n)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.tapMu.Lock()
			defer s.tapMu.Unlock()
			cur := s.taps.Load()
			var n []Tap
			removed := false
			for _, x := range *cur {
				if !removed && x == t {
					removed = true
					continue
				}
				n = append(n, x)
			}
			s.taps.Store(&n)
		})
	}
}

func (s *TermStream) HasTaps() bool {
	t := s.taps.Load()
	return t != nil && len(*t) > 0
}

func (s *TermStream) RunTaps(dir Dir, pcm []int16, ts uint32, fl FrameFlags) {
	t := s.taps.Load()
	if t == nil || len(*t) == 0 {
		return
	}
	s.tapFr = Frame{PCM: pcm, Rate: s.rate, TS: ts, Flags: fl}
	for _, tp := range *t {
		tp.OnFrame(dir, &s.tapFr)
	}
}

// deliver is called by the clock tick with the frame decoded for this ptime.
func (s *TermStream) Deliver(pcm []int16, ts uint32, fl FrameFlags) {
	s.RunTaps(DirRead, pcm, ts, fl)
	s.in.tryPush(pcm, ts, fl, true)
}

// take is called by the clock tick to get the frame to send; ok=false when the app wrote nothing.
func (s *TermStream) Take(dst []int16) ([]int16, FrameFlags, bool) {
	pcm, ts, fl, ok := s.out.tryPop(dst)
	if ok {
		s.RunTaps(DirWrite, pcm, ts, fl)
	}
	return pcm, fl, ok
}

func (s *TermStream) Close() {
	s.in.close()
	s.out.close()
}

func (s *TermStream) String() string {
	return fmt.Sprintf("stream(%dHz/%s)", s.rate, s.ptime)
}
