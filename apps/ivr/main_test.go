package ivr_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind (sessions, mixers, recorders,
// database writers must all stop with the host).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
