//go:build !(linux || darwin || freebsd) || noopus

package opus

import "errors"

// Available says libopus was found and Opus is registered.
var Available = false

// Err says why Opus is absent.
func Err() error { return errors.New("opus: not built in (-tags noopus or an unsupported OS)") }
