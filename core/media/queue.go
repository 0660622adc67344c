package media

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Streams and Ports after Close.
var ErrClosed = errors.New("media: closed")

// frameQueue is a bounded FIFO of PCM frames with preallocated slots. One side blocks (with a
// context) while the other side is driven by the media clock and never blocks. The doorbells are
// 1-slot channels, so waking a waiter costs no allocation.
type frameQueue struct {
	mu     sync.Mutex
	slots  [][]int16
	flags  []FrameFlags
	ts     []uint32
	head   int // next to pop
	n      int // queued
	closed bool
	seq    uint64 // pushes so far (readers use it to notice new frames)
	bell   chan struct{}
}

func newFrameQueue(depth, samples int) *frameQueue {
	q := &frameQueue{slots: make([][]int16, depth), flags: make([]FrameFlags, depth),
		ts: make([]uint32, depth), bell: make(chan struct{}, 1)}
	for i := range q.slots {
		q.slots[i] = make([]int16, 0, samples)
	}
	return q
}

func (q *frameQueue) ring() {
	select {
	case q.bell <- struct{}{}:
	default:
	}
}

// tryPush appends a frame; when full it either fails (overwrite=false) or drops the oldest.
func (q *frameQueue) tryPush(pcm []int16, ts uint32, fl FrameFlags, overwrite bool) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.n == len(q.slots) {
		if !overwrite {
			q.mu.Unlock()
			return false
		}
		q.head = (q.head + 1) % len(q.slots)
		q.n--
	}
	i := (q.head + q.n) % len(q.slots)
	q.slots[i] = append(q.slots[i][:0], pcm...)
	q.flags[i] = fl
	q.ts[i] = ts
	q.n++
	q.seq++
	q.mu.Unlock()
	q.ring()
	return true
}

// push blocks while the queue is full (the clock drains it once per ptime).
func (q *frameQueue) push(ctx context.Context, pcm []int16, ts uint32, fl FrameFlags) error {
	for {
		q.mu.Lock()
		closed, full := q.closed, q.n == len(q.slots)
		q.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if !full && q.tryPush(pcm, ts, fl, false) {
			return nil
		}
		select {
		case <-q.bell:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryPop copies the oldest frame into dst (reusing its storage) and reports whether there was one.
func (q *frameQueue) tryPop(dst []int16) ([]int16, uint32, FrameFlags, bool) {
	q.mu.Lock()
	if q.n == 0 {
		q.mu.Unlock()
		return dst, 0, 0, false
	}
	i := q.head
	dst = append(dst[:0], q.slots[i]...)
	ts, fl := q.ts[i], q.flags[i]
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	q.mu.Unlock()
	q.ring()
	return dst, ts, fl, true
}

// pop blocks until a frame is available.
func (q *frameQueue) pop(ctx context.Context, dst []int16) ([]int16, uint32, FrameFlags, error) {
	for {
		d, ts, fl, ok := q.tryPop(dst)
		if ok {
			return d, ts, fl, nil
		}
		q.mu.Lock()
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return dst, 0, 0, ErrClosed
		}
		select {
		case <-q.bell:
		case <-ctx.Done():
			return dst, 0, 0, ctx.Err()
		}
	}
}

func (q *frameQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.ring()
}
