package core_test

import (
	"errors"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// A session hung up before Start (a BYE that raced its INVITE through an overloaded switch) is
// not started: Start says so, Done is closed once, and the table does not keep it.
func TestHangupBeforeStart(t *testing.T) {
	h := admissionHost(t)
	s := core.NewSession(h, core.SessionOptions{Direction: core.Inbound, Name: "test/racer", Profile: &core.CallerProfile{}})
	s.Hangup(core.CauseNormalClearing)
	if err := s.Start(); !errors.Is(err, core.ErrHungUp) {
		t.Fatalf("Start after Hangup: %v", err)
	}
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed")
	}
	if n := h.SessionCount(); n != 0 {
		t.Errorf("%d sessions in the table", n)
	}
}
