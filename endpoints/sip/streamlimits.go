package sip

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/netguard"
)

// StreamLimits guard a profile's TCP and TLS listeners (each listener has its own caps).
type StreamLimits struct {
	MaxConns     int           // tcp-max-connections; 0 = no cap
	MaxPerSource int           // tcp-max-connections-per-source; 0 = no cap
	Message      time.Duration // tcp-message-timeout: first message after connect, and each message, must arrive within this
	Idle         time.Duration // tcp-idle-timeout: nothing received for this long closes the connection
	Write        time.Duration // tcp-write-timeout: a peer that does not read
	Handshake    time.Duration // tls-handshake-timeout
}

// DefaultStreamLimits are the defaults. The idle timeout is longer than the usual 3600 s
// registration refresh, so a phone registered over TCP without CRLF keep-alives keeps its
// connection (sofia-sip never closes idle connections; we must not be much more eager, or calls
// to that phone fail). The per-source cap leaves room for an office of phones behind one NAT.
var DefaultStreamLimits = StreamLimits{
	MaxConns: 10000, MaxPerSource: 128,
	Message: 20 * time.Second, Idle: 3900 * time.Second, Write: 30 * time.Second, Handshake: 10 * time.Second,
}

func (s *StreamLimits) timeout(param string) *time.Duration {
	switch param {
	case "tcp-message-timeout":
		return &s.Message
	case "tcp-idle-timeout":
		return &s.Idle
	case "tcp-write-timeout":
		return &s.Write
	}
	return &s.Handshake
}

// parseSeconds reads a number of seconds ("20", "0.5") or a Go duration ("500ms"); 0 = off.
func parseSeconds(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return 0, errors.New("negative")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		return 0, errors.New("negative")
	}
	return d, err
}

// guardConfig builds the netguard settings of one of the profile's stream listeners.
func (p *Profile) guardConfig(transport string) netguard.Config {
	s := p.cfg.Stream
	c := netguard.Config{
		Name: "sip " + p.cfg.Name + " " + transport, Log: p.log.With("transport", transport),
		MaxConns: s.MaxConns, MaxPerSource: s.MaxPerSource,
		MessageTimeout: s.Message, IdleTimeout: s.Idle, WriteTimeout: s.Write, HandshakeTimeout: s.Handshake,
	}
	if f := p.ep.acceptFilter.Load(); f != nil {
		c.Allow = *f
	}
	if isWebSocket(transport) {
		// The guard's framer reads SIP on a raw stream; inside WebSocket frames it would see
		// messages that never end. The demux bounds the upgrade request itself (wsdemux.go).
		c.MessageTimeout = 0
	}
	// Every connection is a descriptor shared with RTP ports and the other listeners: a default
	// cap is lowered to a quarter of RLIMIT_NOFILE so that one flooded listener cannot use them
	// all; a configured one is kept, with a warning.
	if lim := netguard.FDLimit(); lim > 0 && (c.MaxConns == 0 || c.MaxConns > lim/4) {
		if _, set := p.cfg.Params["tcp-max-connections"]; set {
			p.log.Warn("tcp-max-connections leaves no descriptors for RTP when reached", "transport", transport,
				"tcp-max-connections", c.MaxConns, "nofile", lim)
		} else {
			c.MaxConns = lim / 4
			p.log.Info("tcp-max-connections lowered to a quarter of the open file limit", "transport", transport,
				"tcp-max-connections", c.MaxConns, "nofile", lim)
		}
	}
	return c
}

// SetAcceptFilter installs f, asked about the source of every new TCP/TLS connection on every
// profile (running and future); false closes the connection at accept. nil removes it. It is
// the hook for a ban list.
func (e *Endpoint) SetAcceptFilter(f func(netip.Addr) bool) {
	if f == nil {
		e.acceptFilter.Store(nil)
	} else {
		e.acceptFilter.Store(&f)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.profiles {
		for _, g := range p.guards() {
			g.SetAllow(f)
		}
	}
}

func (p *Profile) guards() []*netguard.Listener {
	var out []*netguard.Listener
	for _, l := range []net.Listener{p.tcp, p.tlsL} {
		if g, ok := l.(*netguard.Listener); ok {
			out = append(out, g)
		}
	}
	return out
}

// streamStatus is the sofia status profile rows of one guarded listener.
func streamStatus(prefix string, l net.Listener) [][2]string {
	g, ok := l.(*netguard.Listener)
	if !ok {
		return nil
	}
	st := g.Stats()
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	cfg := g.Config()
	return [][2]string{
		{prefix + "-CONNS", strconv.FormatInt(st.Active, 10)},
		{prefix + "-CONNS-MAX", strconv.Itoa(cfg.MaxConns) + " (" + strconv.Itoa(cfg.MaxPerSource) + " per source)"},
		{prefix + "-CONNS-PEAK", strconv.FormatInt(st.PeakActive, 10)},
		{prefix + "-ACCEPTED", u(st.Accepted)},
		{prefix + "-REFUSED", u(st.Refused)},
		{prefix + "-DENIED", u(st.Denied)},
		{prefix + "-ACCEPT-ERRORS", u(st.AcceptErrors)},
		{prefix + "-TIMEOUTS", u(st.MessageTimeouts + st.IdleTimeouts + st.HandshakeFails)},
	}
}
