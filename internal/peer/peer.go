// Package peer holds the one rule for interop tests whose third-party peer (SIPp, baresip, tmux,
// an npm ESL client) is missing: skip on a developer's machine, fail under CI=true, where
// scripts/test.sh has installed every peer and a skip would hide a broken install step.
package peer

import (
	"fmt"
	"os"
	"testing"
)

// Missing skips the test, or fails it when CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: interop peers are required)")
	}
	t.Skip(msg)
}
