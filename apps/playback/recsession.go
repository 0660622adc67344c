package playback

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// sessionRecording is one record_session media bug. OnFrame runs on the media clock and only
// copies; the writer goroutine (owned by the recording, ended by stop or hangup) does the I/O.
type sessionRecording struct {
	path   string
	stereo bool
	only   media.Dir // with one set: RECORD_READ_ONLY / RECORD_WRITE_ONLY
	one    bool
	rate   int
	limit  int64 // samples per channel, 0 = none

	mu       sync.Mutex
	pendingW []int16
	frames   chan []int16
	dropped  int

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	remove   func()
}

// OnFrame implements media.Tap: what goswitch sends is held until the matching received frame
// arrives, then both leave together as one stereo (or mixed mono) frame.
func (r *sessionRecording) OnFrame(dir media.Dir, f *media.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.one {
		if dir == r.only {
			r.send(append([]int16(nil), f.PCM...))
		}
		return
	}
	if dir == media.DirWrite {
		r.pendingW = append(r.pendingW, f.PCM...)
		if over := len(r.pendingW) - 4*len(f.PCM); over > 0 {
			r.pendingW = append(r.pendingW[:0], r.pendingW[over:]...)
		}
		return
	}
	n := len(f.PCM)
	var out []int16
	if r.stereo {
		out = make([]int16, 2*n)
		for i, v := range f.PCM {
			out[2*i] = v
			if i < len(r.pendingW) {
				out[2*i+1] = r.pendingW[i]
			}
		}
	} else {
		out = make([]int16, n)
		for i, v := range f.PCM {
			acc := int32(v)
			if i < len(r.pendingW) {
				acc += int32(r.pendingW[i])
			}
			out[i] = int16(max(-32768, min(32767, acc)))
		}
	}
	k := min(n, len(r.pendingW))
	r.pendingW = append(r.pendingW[:0], r.pendingW[k:]...)
	r.send(out)
}

func (r *sessionRecording) send(pcm []int16) {
	select {
	case r.frames <- pcm:
	default:
		r.dropped++
	}
}

// recordingsKey is the channel private data holding the channel's live record_session bugs,
// for stop_record_session. The set lives and dies with the session.
const recordingsKey = "playback.recordings"

type recordingSet struct {
	mu   sync.Mutex
	recs map[string]*sessionRecording
}

func setFor(s *core.Session) *recordingSet {
	return s.PrivateOrStore(recordingsKey, &recordingSet{recs: map[string]*sessionRecording{}}).(*recordingSet)
}

// SessionRecordingOptions choose what record_session writes.
type SessionRecordingOptions struct {
	Stereo    bool // caller left, goswitch right (RECORD_STEREO)
	ReadOnly  bool // only what the caller says (RECORD_READ_ONLY)
	WriteOnly bool // only what the caller hears (RECORD_WRITE_ONLY)
	LimitSecs int  // > 0 stops after that many seconds
}

// StartSessionRecording attaches a record_session bug writing path.
func StartSessionRecording(s *core.Session, path string, o SessionRecordingOptions) error {
	stereo, limitSecs := o.Stereo && !o.ReadOnly && !o.WriteOnly, o.LimitSecs
	st := s.Media()
	if st == nil {
		return core.ErrNoMedia
	}
	set := setFor(s)
	set.mu.Lock()
	if _, dup := set.recs[path]; dup {
		set.mu.Unlock()
		return errRecordExists
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		set.mu.Unlock()
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		set.mu.Unlock()
		return err
	}
	ch := 1
	if stereo {
		ch = 2
	}
	w, err := newStereoWav(f, st.Rate(), ch)
	if err != nil {
		f.Close()
		set.mu.Unlock()
		return err
	}
	r := &sessionRecording{
		path: path, stereo: stereo, rate: st.Rate(), one: o.ReadOnly || o.WriteOnly, only: media.DirRead,
		frames: make(chan []int16, 64),
		stop:   make(chan struct{}), done: make(chan struct{}),
	}
	if o.WriteOnly && !o.ReadOnly {
		r.only = media.DirWrite
	}
	if limitSecs > 0 {
		r.limit = int64(limitSecs) * int64(st.Rate())
	}
	set.recs[path] = r
	set.mu.Unlock()
	r.remove = st.AddTap(r)
	e := s.NewEvent(event.RecordStart, "")
	e.Add("Record-File-Path", path)
	s.Host().Bus.Publish(e)
	go r.run(s, f, w, set)
	return nil
}

func (r *sessionRecording) run(s *core.Session, f *os.File, w *stereoWav, set *recordingSet) {
	defer close(r.done)
	var samples int64
	write := func(pcm []int16) bool {
		if err := w.write(pcm); err != nil {
			s.Log().Warn("record_session write failed", "path", r.path, "err", err)
			return false
		}
		samples += int64(len(pcm) / w.ch)
		return r.limit == 0 || samples < r.limit
	}
	ctx := s.Context()
loop:
	for {
		select {
		case pcm := <-r.frames:
			if !write(pcm) {
				break loop
			}
		case <-r.stop:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	r.remove()
	for drained := false; !drained; { // frames the tap queued before it was removed
		select {
		case pcm := <-r.frames:
			_ = w.write(pcm)
		default:
			drained = true
		}
	}
	if err := w.close(); err != nil {
		s.Log().Warn("record_session close failed", "path", r.path, "err", err)
	}
	f.Close()
	set.mu.Lock()
	if set.recs[r.path] == r {
		delete(set.recs, r.path)
	}
	set.mu.Unlock()
	s.SetVar("record_samples", itoa64(samples))
	s.SetVar("record_seconds", itoa64(samples/int64(r.rate)))
	s.SetVar("record_ms", itoa64(samples*1000/int64(r.rate)))
	e := s.NewEvent(event.RecordStop, "")
	e.Add("Record-File-Path", r.path)
	s.Host().Bus.Publish(e)
}

// StopSessionRecording stops record_session for path ("all" stops every one) and waits until the
// files are closed. It reports how many it stopped.
func StopSessionRecording(ctx context.Context, s *core.Session, path string) int {
	set, ok := s.Private(recordingsKey).(*recordingSet)
	if !ok {
		return 0
	}
	set.mu.Lock()
	var stop []*sessionRecording
	for p, r := range set.recs {
		if path == "all" || p == path {
			stop = append(stop, r)
		}
	}
	set.mu.Unlock()
	for _, r := range stop {
		r.stopOnce.Do(func() { close(r.stop) })
		select {
		case <-r.done:
		case <-ctx.Done():
		}
	}
	return len(stop)
}
