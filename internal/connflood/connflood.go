// Package connflood opens and holds many TCP connections to a listener, the way a
// connection-exhaustion attack does, and probes a SIP listener with OPTIONS over TCP or TLS.
// The listener tests of endpoints/sip and scripts/connflood use it.
package connflood

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Flood is a set of held connections.
type Flood struct {
	mu     sync.Mutex
	conns  []net.Conn
	Failed int // dials that failed
}

// Open dials n connections to addr from src ("" = any), workers at a time, writing send (if
// any) on each, and holds them. It stops early when ctx ends.
func Open(ctx context.Context, addr, src string, n, workers int, send []byte) *Flood {
	return OpenPorts(ctx, addr, src, 0, n, workers, send)
}

// OpenPorts is Open with the source ports counted up from port0 (0: the kernel picks; a port
// may be used again by another OpenPorts to a different destination). With
// thousands of connections held to one destination the kernel's search for a free ephemeral
// port slows connect to a crawl; explicit ports keep the flood fast. A port in use is skipped.
func OpenPorts(ctx context.Context, addr, src string, port0, n, workers int, send []byte) *Flood {
	f := &Flood{}
	ip := net.ParseIP(src)
	var next, failed, port atomic.Int64
	port.Store(int64(port0) - 1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				d := net.Dialer{Timeout: 3 * time.Second}
				if src != "" || port0 > 0 {
					d.LocalAddr = &net.TCPAddr{IP: ip}
				}
				if port0 > 0 {
					d.Control = reuseAddr // one source port may serve several destinations
				}
				var c net.Conn
				var err error
				for {
					if port0 > 0 {
						p := port.Add(1)
						if p > 65535 {
							err = errors.New("source ports exhausted")
							break
						}
						d.LocalAddr = &net.TCPAddr{IP: ip, Port: int(p)}
					}
					c, err = d.DialContext(ctx, "tcp", addr)
					if port0 == 0 || !errors.Is(err, syscall.EADDRINUSE) {
						break
					}
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				if len(send) > 0 {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					c.Write(send)
				}
				f.mu.Lock()
				f.conns = append(f.conns, c)
				f.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	f.Failed = int(failed.Load())
	return f
}

// Opened is how many dials succeeded.
func (f *Flood) Opened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// Held counts the connections the server has not closed (see alive).
func (f *Flood) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.conns {
		if alive(c) {
			n++
		}
	}
	return n
}

// Close closes every connection.
func (f *Flood) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// Probe sends OPTIONS to addr from src over TCP (or TLS) and returns the response's status line.
func Probe(addr, src string, useTLS bool, timeout time.Duration) (string, error) {
	d := net.Dialer{Timeout: timeout}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	tr := "TCP"
	if useTLS {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			return "", fmt.Errorf("handshake: %w", err)
		}
		c, tr = tc, "TLS"
	}
	la := c.LocalAddr().String()
	id := fmt.Sprintf("probe%d", time.Now().UnixNano())
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=%s\r\nTo: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		addr, tr, la, id, la, id, addr, id)
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
