package main

import (
	"errors"
	"log/slog"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/metrics"
)

// startMetrics starts the Prometheus /metrics and pprof listener at -metrics, else switch.conf's
// metrics-listen, else 127.0.0.1:8080; "off" turns it off. An address off loopback is refused
// without -insecure (an error: the daemon does not start, as with ESL's ClueCon rule); an address
// that is taken is logged and the switch runs without metrics.
func startMetrics(h *core.Host, flag string, insecure bool, log *slog.Logger) (func(), error) {
	addr := flag
	if addr == "" {
		addr = metrics.ConfigAddr(h.Config())
	}
	if metrics.Disabled(addr) {
		return func() {}, nil
	}
	s, err := metrics.Listen(h, addr, insecure, log)
	if errors.Is(err, metrics.ErrNotLoopback) {
		return nil, err
	}
	if err != nil {
		log.Error("metrics listener not started", "addr", addr, "err", err)
		return func() {}, nil
	}
	return func() { _ = s.Close() }, nil
}
