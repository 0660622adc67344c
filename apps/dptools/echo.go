package dptools

import (
	"context"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func park(ctx context.Context, s *core.Session, args string) error {
	s.Park()
	return nil
}

// echo sends back what it hears until the call ends.
// echoer is a leg port that returns its packets as they came (rtp.RTPPort.Echo).
type echoer interface{ Echo() (stop func()) }

// echo returns what the caller sends: RTP legs packet by packet (same payload, same ptime,
// nothing when nothing arrives, as FreeSWITCH's echo writes back the frames it reads); other
// legs frame by frame through their stream.
func echo(ctx context.Context, s *core.Session, args string) error {
	if l := s.Leg(); l != nil {
		if e, ok := l.Port().(echoer); ok {
			stop := e.Echo()
			defer stop()
			<-ctx.Done()
			return nil
		}
	}
	st := s.Media()
	if st == nil {
		return core.ErrNoMedia
	}
	var f media.Frame
	for {
		if err := st.ReadFrame(ctx, &f); err != nil {
			return nil
		}
		if err := st.WriteFrame(ctx, &f); err != nil {
			return nil
		}
	}
}

// delayEcho sends back what it hears ms milliseconds later, whatever the frame size: a ring of
// that many samples (silence at first) through which every sample passes.
func delayEcho(ctx context.Context, s *core.Session, args string) error {
	st := s.Media()
	if st == nil {
		return core.ErrNoMedia
	}
	ms, _ := strconv.Atoi(strings.TrimSpace(args))
	if ms <= 0 {
		ms = 1000
	}
	var (
		f    media.Frame
		ring []int16
		pos  int
		rate int
		out  []int16
	)
	for {
		if err := st.ReadFrame(ctx, &f); err != nil {
			return nil
		}
		if f.Rate != rate || ring == nil {
			rate = f.Rate
			ring, pos = make([]int16, max(1, ms*rate/1000)), 0
		}
		out = out[:0]
		for _, x := range f.PCM {
			out = append(out, ring[pos])
			ring[pos] = x
			if pos++; pos == len(ring) {
				pos = 0
			}
		}
		w := media.Frame{PCM: out, Rate: f.Rate, TS: f.TS}
		if err := st.WriteFrame(ctx, &w); err != nil {
			return nil
		}
	}
}
