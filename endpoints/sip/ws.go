package sip

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/goswitch/goswitch/core/netguard"
	"github.com/goswitch/goswitch/web"
)

// SIP over WebSocket (RFC 7118), FreeSWITCH's ws-binding and wss-binding profile params
// (":5066", "1.2.3.4:7443"). sipgo's ws/wss transports carry it (gobwas/ws, sub-protocol sip);
// the listeners sit behind the same guard as TCP and TLS, and WSS terminates TLS in the guard
// with wss.pem from the profile's certificate directory (self-signed on first start, as
// FreeSWITCH creates it). A phone registered over a WebSocket is reachable only through its
// connection: its calls go to the address the REGISTER came from, which sipgo's connection pool
// maps to that socket. A plain HTTP request on either port gets the web phone (package web).

// wsListen binds host:port of a binding value; an empty host is the profile's sip-ip. With
// sip-port 0 (tests) the port is 0 too.
func (p *Profile) wsListen(binding string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(binding))
	if err != nil {
		return nil, fmt.Errorf("bad binding %q: %w", binding, err)
	}
	if host == "" {
		host = p.sipIP.String()
	}
	if p.cfg.SIPPort == 0 {
		port = "0"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// startWS opens the ws and wss listeners the profile asks for. A binding that cannot be had is
// logged and skipped: the profile's other transports still serve.
func (p *Profile) startWS() {
	if b := p.cfg.WSBinding; b != "" {
		if l, err := p.wsListen(b); err != nil {
			p.log.Error("ws-binding not available; SIP over WebSocket is off", "binding", b, "err", err)
		} else {
			p.wsL = newWSDemux(netguard.New(l, p.guardConfig("ws")), web.Handler(), p.log)
		}
	}
	if b := p.cfg.WSSBinding; b != "" {
		conf, err := p.loadWSSCert()
		if err != nil {
			p.log.Error("wss certificate not available; SIP over secure WebSocket is off", "err", err)
			return
		}
		l, err := p.wsListen(b)
		if err != nil {
			p.log.Error("wss-binding not available; SIP over secure WebSocket is off", "binding", b, "err", err)
			return
		}
		gc := p.guardConfig("wss")
		gc.TLS = conf
		p.wssL = newWSDemux(netguard.New(l, gc), web.Handler(), p.log)
	}
}

// loadWSSCert reads wss.pem (certificate and key) from the certificate directory, creating a
// self-signed one when there is none.
func (p *Profile) loadWSSCert() (*tls.Config, error) {
	dir := p.cfg.TLSCertDir
	if dir == "" {
		dir = p.ep.h.Dirs.Certs
	}
	if dir == "" {
		return nil, errors.New("wss: no certs dir (tls-cert-dir or -certs)")
	}
	path := filepath.Join(dir, "wss.pem")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := selfSigned(path, p.extSIPIP.String()); err != nil {
			return nil, err
		}
		p.log.Warn("generated a self-signed WSS certificate; replace it with a real one", "file", path)
	}
	pemData, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(pemData, pemData)
	if err != nil {
		return nil, fmt.Errorf("wss: %s: %w", path, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// WSAddr and WSSAddr return the WebSocket listeners' addresses (invalid when off).
func (p *Profile) WSAddr() netip.AddrPort  { return listenerAddr(p.wsL) }
func (p *Profile) WSSAddr() netip.AddrPort { return listenerAddr(p.wssL) }

func listenerAddr(l net.Listener) netip.AddrPort {
	if l == nil {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(l.Addr().String())
	if err != nil {
		return netip.AddrPort{}
	}
	return ap
}

// isWebSocket reports whether a transport name is ws or wss.
func isWebSocket(transport string) bool {
	t := strings.ToLower(transport)
	return t == "ws" || t == "wss"
}

// wsListenerFor returns the address of the ws or wss listener for transport (invalid for other
// transports or when off), for the port in our Contact.
func (p *Profile) wsListenerFor(transport string) netip.AddrPort {
	switch strings.ToLower(transport) {
	case "ws":
		return p.WSAddr()
	case "wss":
		return p.WSSAddr()
	}
	return netip.AddrPort{}
}
