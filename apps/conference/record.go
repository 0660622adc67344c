package conference

import (
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/goswitch/goswitch/core/media/audio"
)

// recording writes the conference mix (everyone, plus what is played to the room) to a WAV file.
// The mixer only hands frames over; the recording's goroutine does the I/O and ends on Stop or
// when the conference is destroyed.
type recording struct {
	path     string
	frames   chan []int16
	free     chan []int16 // frames written to disk, back to the mixer for reuse
	nbuf     int          // frames made so far (guarded by c.mu)
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// recDepth is how many intervals a recording may fall behind the mixer before frames are dropped.
const recDepth = 50

var errRecording = errors.New("conference: already recording to that file")

// StartRecording records the conference into path (conference <name> record <path>).
func (c *Conference) StartRecording(path string) error {
	c.mu.Lock()
	for _, r := range c.recs {
		if r.path == path {
			c.mu.Unlock()
			return errRecording
		}
	}
	if c.ended {
		c.mu.Unlock()
		return errors.New("conference: ended")
	}
	c.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := audio.NewWavWriter(f, c.rate, audio.WavPCM)
	if err != nil {
		f.Close()
		return err
	}
	r := &recording{path: path, frames: make(chan []int16, recDepth), free: make(chan []int16, recDepth), stop: make(chan struct{}), done: make(chan struct{})}
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
	go func() {
		defer close(r.done)
		write := func(pcm []int16) {
			if err := w.Write(pcm); err != nil {
				c.m.h.Log.Warn("conference recording write failed", "path", path, "err", err)
			}
			select {
			case r.free <- pcm:
			default:
			}
		}
	loop:
		for {
			select {
			case pcm := <-r.frames:
				write(pcm)
			case <-r.stop:
				break loop
			}
		}
		for {
			select {
			case pcm := <-r.frames:
				write(pcm)
				continue
			default:
			}
			break
		}
		if err := w.Close(); err != nil {
			c.m.h.Log.Warn("conference recording close failed", "path", path, "err", err)
		}
		f.Close()
		c.event("stop-recording", nil, [2]string{"Path", path})
	}()
	c.event("start-recording", nil, [2]string{"Path", path})
	return nil
}

// StopRecording stops the recording of path ("all" stops every one), waits for the files to be
// closed and returns how many it stopped.
func (c *Conference) StopRecording(path string) int {
	c.mu.Lock()
	var stop []*recording
	keep := c.recs[:0]
	for _, r := range c.recs {
		if path == "all" || r.path == path {
			stop = append(stop, r)
		} else {
			keep = append(keep, r)
		}
	}
	c.recs = keep
	c.mu.Unlock()
	for _, r := range stop {
		r.stopOnce.Do(func() { close(r.stop) })
		<-r.done
	}
	return len(stop)
}

// Recordings returns the files being recorded.
func (c *Conference) Recordings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs {
		out = append(out, r.path)
	}
	return out
}

// feedRecordings hands the full mix to the recordings; called by the mixer under c.mu.
func (c *Conference) feedRecordings(mix []int32) {
	if len(c.recs) == 0 {
		return
	}
	for _, r := range c.recs {
		var pcm []int16
		select {
		case pcm = <-r.free:
		default:
			if r.nbuf >= recDepth {
				continue // the disk fell behind; drop rather than stall the mixer
			}
			r.nbuf++
		}
		if cap(pcm) < len(mix) {
			pcm = make([]int16, len(mix))
		}
		pcm = pcm[:len(mix)]
		for i, v := range mix {
			pcm[i] = audio.Clip16(v)
		}
		select {
		case r.frames <- pcm:
		default:
		}
	}
}
