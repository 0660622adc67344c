//go:build !unix

package main

import "log/slog"

func raiseNoFile(*slog.Logger) {}
