package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// DefaultAddr is where the listener binds when neither switch.conf nor the command line says.
const DefaultAddr = "127.0.0.1:8080"

// ErrNotLoopback refuses a listen address off the loopback interface without -insecure:
// pprof shows the process's memory and goroutines, and /metrics the call load.
var ErrNotLoopback = errors.New("metrics: listen address is not loopback (pprof exposes the process); use 127.0.0.1 or ::1, or -insecure")

// ConfigAddr returns switch.conf's metrics-listen, or DefaultAddr without one. "" or "off"
// (from either place) disables the listener.
func ConfigAddr(snap *xmlconf.Snapshot) string {
	if snap == nil {
		return DefaultAddr
	}
	if sw := snap.Configuration("switch.conf"); sw != nil {
		for _, p := range sw.FindElements("settings/param") {
			if p.SelectAttrValue("name", "") == "metrics-listen" {
				return strings.TrimSpace(p.SelectAttrValue("value", ""))
			}
		}
	}
	return DefaultAddr
}

// Disabled reports whether addr turns the listener off.
func Disabled(addr string) bool {
	a := strings.ToLower(strings.TrimSpace(addr))
	return a == "" || a == "off" || a == "false" || a == "no"
}

// checkLoopback accepts host:port whose host is a loopback address or "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics: listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return ErrNotLoopback
	}
	return nil
}

// Server is the metrics and pprof HTTP listener.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Handler returns the mux the listener serves: /metrics (the host's collector, Go runtime and
// process metrics on a registry of its own) and /debug/pprof/.
func Handler(h *core.Host) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(h), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Registered on this mux only: importing net/http/pprof also fills http.DefaultServeMux,
	// which goswitch never serves.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Listen binds addr (loopback only unless insecure) and serves Handler(h) until Close.
func Listen(h *core.Host, addr string, insecure bool, log *slog.Logger) (*Server, error) {
	if err := checkLoopback(addr); err != nil {
		if !errors.Is(err, ErrNotLoopback) || !insecure {
			return nil, err
		}
		if log != nil {
			log.Warn("metrics and pprof listening off loopback (-insecure): anyone who reaches it can read the process's memory profile", "addr", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s := &Server{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: Handler(h), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	if log != nil {
		log.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics", "pprof", "/debug/pprof/")
	}
	return s, nil
}

// Addr is the bound address (the real port when addr had port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the listener and waits for the server goroutine.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
