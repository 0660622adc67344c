package media

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// PipeConfig configures NewPipe. Zero values give 8 kHz L16 at 20 ms on a private clock.
type PipeConfig struct {
	Rate  int           // PCM rate of both ends (8000, 16000, 48000)
	Ptime time.Duration // frame length
	Clock Clock         // shared clock; nil creates one owned by the pipe
	Name  string        // shows in String(), e.g. the loopback channel name
}

// PipePort is one end of an in-process port pair (loopback channels): audio written to one
// end's Stream is read from the other's, paced by the clock; DTMF sent on one end arrives at the
// other end's OnDTMF with Source "ENDPOINT".
type PipePort struct {
	p    *pipe
	side int
}

type pipe struct {
	cfg     PipeConfig
	ownClk  *SoftClock
	cancel  func()
	mu      sync.Mutex
	closed  [2]bool
	streams [2]*TermStream
	onDTMF  [2]func(DTMF)
	peers   [2]Port   // bridged ports that also receive side i's incoming digits
	dtmfQ   [2][]DTMF // digits travelling towards side i
	buf     [2][]int16
	silence []int16
	ts      [2]uint32
	last    time.Time // previous tick's deadline (mu)

	inCallback atomic.Int32
}

// NewPipe returns two connected ports. Close both; the pipe stops when both are closed.
func NewPipe(cfg PipeConfig) (a, b *PipePort) {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Ptime == 0 {
		cfg.Ptime = 20 * time.Millisecond
	}
	p := &pipe{cfg: cfg}
	if cfg.Clock == nil {
		p.ownClk = NewSoftClock(1)
		p.cfg.Clock = p.ownClk
	}
	for i := range p.streams {
		p.streams[i] = NewTermStream(cfg.Rate, cfg.Ptime)
		p.buf[i] = make([]int16, 0, p.streams[i].samples)
	}
	p.silence = make([]int16, p.streams[0].samples)
	p.cancel = p.cfg.Clock.Every(cfg.Ptime, p.tick)
	return &PipePort{p, 0}, &PipePort{p, 1}
}

// tick moves one frame each way and hands over queued DTMF.
func (p *pipe) tick(deadline time.Time) {
	p.mu.Lock()
	if p.closed[0] && p.closed[1] {
		p.mu.Unlock()
		return
	}
	// Frames a late clock skipped leave a timestamp gap, so frame timestamps follow wall time.
	var skipped uint32
	if pt := p.cfg.Ptime; !p.last.IsZero() && deadline.Sub(p.last) >= pt+pt/2 {
		skipped = uint32((deadline.Sub(p.last)+pt/2)/pt) - 1
	}
	p.last = deadline
	var digits [2][]DTMF
	var fns [2]func(DTMF)
	var peers [2]Port
	for i := range 2 {
		if len(p.dtmfQ[i]) > 0 {
			digits[i] = append([]DTMF(nil), p.dtmfQ[i]...)
			fns[i], peers[i] = p.onDTMF[i], p.peers[i]
		}
		p.dtmfQ[i] = p.dtmfQ[i][:0]
	}
	p.mu.Unlock()
	for from := range 2 {
		to := 1 - from
		pcm, _, ok := p.streams[from].Take(p.buf[from])
		p.buf[from] = pcm
		fl := FrameFlags(0)
		if !ok {
			pcm, fl = p.silence, FrameSilence
		}
		p.ts[to] += skipped * uint32(p.streams[to].samples)
		p.streams[to].Deliver(pcm, p.ts[to], fl)
		p.ts[to] += uint32(len(pcm))
	}
	for i, ds := range digits {
		for _, d := range ds {
			if fns[i] != nil {
				p.inCallback.Add(1)
				fns[i](d)
				p.inCallback.Add(-1)
			}
			if peers[i] != nil {
				_ = peers[i].SendDTMF(d)
			}
		}
	}
}

// Codec reports linear PCM at the pipe's rate.
func (e *PipePort) Codec() CodecInfo {
	return CodecInfo{Name: "L16", ClockRate: e.p.cfg.Rate, SampleRate: e.p.cfg.Rate, Channels: 1, Ptime: e.p.cfg.Ptime}
}

// Stream returns this end's terminated-media view.
func (e *PipePort) Stream() Stream { return e.p.streams[e.side] }

// OnDTMF sets the receiver of digits sent from the other end.
func (e *PipePort) OnDTMF(fn func(DTMF)) {
	e.p.mu.Lock()
	e.p.onDTMF[e.side] = fn
	e.p.mu.Unlock()
}

func (e *PipePort) SetDTMFPeer(to Port) {
	e.p.mu.Lock()
	e.p.peers[e.side] = to
	e.p.mu.Unlock()
}

// SendDTMF delivers d to the other end on the next tick.
func (e *PipePort) SendDTMF(d DTMF) error {
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	if e.p.closed[e.side] {
		return ErrClosed
	}
	if d.Source == "" {
		d.Source = "ENDPOINT"
	}
	to := 1 - e.side
	e.p.dtmfQ[to] = append(e.p.dtmfQ[to], d)
	return nil
}

// Close closes this end; the shared tick stops with the second Close.
func (e *PipePort) Close() error {
	p := e.p
	p.mu.Lock()
	if p.closed[e.side] {
		p.mu.Unlock()
		return nil
	}
	p.closed[e.side] = true
	both := p.closed[0] && p.closed[1]
	p.mu.Unlock()
	p.streams[e.side].Close()
	if both {
		p.cancel()
		if p.ownClk != nil {
			if p.inCallback.Load() > 0 {
				go p.ownClk.Close() // closing from OnDTMF: the clock goroutine is running us
			} else {
				p.ownClk.Close()
			}
		}
	}
	return nil
}

// String describes the pipe for logs.
func (e *PipePort) String() string {
	name := e.p.cfg.Name
	if name == "" {
		name = "pipe"
	}
	return fmt.Sprintf("%s[%c](L16/%d %s)", name, 'a'+e.side, e.p.cfg.Rate, e.p.cfg.Ptime)
}
