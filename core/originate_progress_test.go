package core_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// progressSeen is closed by the test's OnProgress; the "ringing" endpoint's legs wait for it
// before they fail, so the test does not depend on which of progress or hangup a leg sees first.
var progressSeen = struct {
	sync.Mutex
	c chan struct{}
}{}

func init() {
	core.RegisterEndpoint(core.EndpointInfo{
		Name: "ringing",
		New:  func(*core.Host) (core.Endpoint, error) { return ringingEndpoint{}, nil },
	})
}

// ringingEndpoint reports 180 then 183 from its own goroutine, as the SIP endpoint does, then
// fails with USER_BUSY once the progress was seen.
type ringingEndpoint struct{}

func (ringingEndpoint) Name() string { return "ringing" }

func (ringingEndpoint) Originate(ctx context.Context, s *core.Session, target string) (core.Leg, error) {
	progressSeen.Lock()
	seen := progressSeen.c
	progressSeen.Unlock()
	go func() {
		s.SignalProgress(false)
		s.SignalProgress(true)
		select {
		case <-seen:
		case <-time.After(5 * time.Second):
		}
		s.Hangup(core.CauseUserBusy)
	}()
	return nil, nil
}

func goroutineID() uint64 {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

// TestOriginateProgressOnCallerGoroutine checks the Leg contract: legs ring in goroutines of
// their own, but OnProgress (which drives the A-leg's RingReady and PreAnswer) runs on the
// goroutine that called Originate, and before Originate returns.
func TestOriginateProgressOnCallerGoroutine(t *testing.T) {
	h := newHost(t)
	seen := make(chan struct{})
	progressSeen.Lock()
	progressSeen.c = seen
	progressSeen.Unlock()
	caller := goroutineID()
	var calls int
	var once sync.Once
	_, err := h.Originate(context.Background(), "ringing/a,ringing/b:_:ringing/c", core.OriginateOptions{
		OnProgress: func(leg *core.Session, withMedia bool) {
			if id := goroutineID(); id != caller {
				t.Errorf("OnProgress on goroutine %d, Originate called on %d", id, caller)
			}
			calls++
			once.Do(func() { close(seen) })
		},
	})
	var ce *core.CallError
	if !errors.As(err, &ce) || ce.Cause != core.CauseUserBusy {
		t.Fatalf("originate: %v, want USER_BUSY", err)
	}
	if calls == 0 {
		t.Fatal("no progress delivered before Originate returned")
	}
}
