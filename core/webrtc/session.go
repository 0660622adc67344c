package webrtc

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/pion/dtls/v3"
	"github.com/pion/transport/v5/packetio"
)

// Local is our side of the leg, for the SDP (a=ice-ufrag, a=ice-pwd, a=fingerprint).
type Local struct {
	Ufrag, Pwd  string
	Fingerprint string // "sha-256 AB:CD:..."
}

// Remote is the far end's side, from its SDP.
type Remote struct {
	Ufrag, Pwd  string
	Fingerprint string // "sha-256 AB:CD:..." (any hash pion knows)
	Setup       string // a=setup: actpass, active, passive
}

// AnswerSetup is our a=setup in an answer to an offer's (RFC 5763 §5): an actpass or active
// offerer gets passive (the browser is then the DTLS client, as FreeSWITCH does), passive
// gets active.
func AnswerSetup(offered string) string {
	if strings.EqualFold(strings.TrimSpace(offered), "passive") {
		return "active"
	}
	return "passive"
}

// Config tunes a Session. Zero values are defaults.
type Config struct {
	HandshakeTimeout time.Duration // from Start to keys; 0 = 20 s
	// OnFailed is called once, from the session's goroutine, when the handshake fails (wrong
	// fingerprint, timeout): the endpoint hangs the call up, as FreeSWITCH does on DTLS failure.
	OnFailed func(error)
	// AllowPeer, if set, filters the addresses whose connectivity checks are answered
	// (FreeSWITCH's apply-candidate-acl): a browser's candidate outside it is never selected.
	AllowPeer func(netip.Addr) bool
	Log       *slog.Logger
}

// Session is one WebRTC leg's ICE-lite agent and DTLS-SRTP transport on an RTPPort.
type Session struct {
	port *rtp.RTPPort
	cfg  Config
	ice  *iceLite
	cert *Certificate
	buf  *packetio.Buffer // DTLS records from the demux hook to pion's reader

	remoteUfrag atomic.Pointer[string]
	selected    atomic.Pointer[netip.AddrPort]
	selOnce     sync.Once
	selCh       chan struct{} // closed at the first valid check

	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	closed  atomic.Bool
	keyed   chan struct{} // closed when the SRTP keys are in the port
	armed   chan struct{} // closed when the handshake timeout starts counting (Arm)
	armOnce sync.Once
	later   atomic.Bool   // DeferArm: Start does not arm
	done    chan struct{} // closed when the handshake ended, well or not
	errMu   sync.Mutex
	err     error
	conn    atomic.Pointer[dtls.Conn]
	profile atomic.Pointer[string]
	keys    [2]rtp.SRTPKey // local, remote: written before keyed closes (tests, benchmarks)
	wg      sync.WaitGroup
	peer    *net.UDPAddr // stands for the selected pair in pion's API; writes go to selected
}

// New attaches a session to port: from now on its STUN and DTLS datagrams come here and RTCP is
// muxed on the RTP socket. Call Close when the call ends (before or with the port).
func New(port *rtp.RTPPort, cfg Config) (*Session, error) {
	cert, err := ProcessCertificate()
	if err != nil {
		return nil, err
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 20 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Session{port: port, cfg: cfg, ice: newICELite(), cert: cert, buf: packetio.NewBuffer(),
		selCh: make(chan struct{}), keyed: make(chan struct{}), done: make(chan struct{}), armed: make(chan struct{}),
		peer: net.UDPAddrFromAddrPort(port.LocalAddr())}
	s.buf.SetLimitSize(256 * 1024)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	port.SetRTCPMux(true)
	port.SetDemux(s.demux)
	// The port may be closed by whoever owns the call (the core closes a session's port); the
	// session then ends too, off the closing goroutine, which may be one Close would wait for.
	port.OnClose(func() { go s.Close() })
	return s, nil
}

// Local returns our ICE credentials and certificate fingerprint.
func (s *Session) Local() Local {
	return Local{Ufrag: s.ice.ufrag, Pwd: s.ice.pwd, Fingerprint: s.cert.Fingerprint}
}

// demux is the port's hook: STUN checks are answered at once on the reader (they are few: a
// handful at setup, then consent checks every few seconds); DTLS records are queued for pion.
func (s *Session) demux(pkt []byte, from netip.AddrPort) {
	switch {
	case pkt[0] < 4: // STUN (RFC 7983)
		if s.cfg.AllowPeer != nil && !s.cfg.AllowPeer(from.Addr().Unmap()) {
			return
		}
		ru := ""
		if p := s.remoteUfrag.Load(); p != nil {
			ru = *p
		}
		resp, res := s.ice.handle(pkt, from, ru)
		if resp != nil {
			_ = s.port.WriteRaw(resp, from)
		}
		if res == checkNominated || (res == checkAnswered && s.selected.Load() == nil) {
			s.selectPair(from)
		}
	case pkt[0] >= 20 && pkt[0] <= 63: // DTLS
		if sel := s.selected.Load(); sel == nil || *sel == from {
			_, _ = s.buf.Write(pkt, nil)
		}
	}
}

// selectPair makes from the leg's remote: the browser's checks, not its SDP address, say where
// it is (NAT, mDNS candidates).
func (s *Session) selectPair(from netip.AddrPort) {
	if sel := s.selected.Load(); sel == nil || *sel != from {
		f := from
		s.selected.Store(&f)
		s.cfg.Log.Debug("ICE pair selected", "remote", from, "local", s.port.LocalAddr())
	}
	s.port.Latch(from)
	s.selOnce.Do(func() { close(s.selCh) })
}

// Selected is the remote address the checks selected (zero until one succeeded).
func (s *Session) Selected() netip.AddrPort {
	if a := s.selected.Load(); a != nil {
		return *a
	}
	return netip.AddrPort{}
}

// Relatch puts the selected address back into the port after the endpoint applied an SDP
// address (SetRemote) that would otherwise replace it until the next check.
func (s *Session) Relatch() {
	if a := s.selected.Load(); a != nil {
		s.port.Latch(*a)
	}
}

// Start begins DTLS with the far end's parameters. client says we are the DTLS client (our
// a=setup is active); the client waits for the first successful check so it knows where to send.
// Calling it again (re-INVITE) only updates the ICE username.
func (s *Session) Start(r Remote, client bool) error {
	if !s.later.Load() {
		s.Arm()
	}
	u := r.Ufrag
	s.remoteUfrag.Store(&u)
	if r.Fingerprint == "" {
		return fmt.Errorf("%w: the SDP has no a=fingerprint", ErrFingerprint)
	}
	if s.started.Swap(true) {
		return nil
	}
	want := r.Fingerprint
	opts := []dtls.Option{
		dtls.WithCertificates(s.cert.TLS),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true), // self-signed: the SDP fingerprint is the trust
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error { return checkFingerprint(want, raw) }),
	}
	s.wg.Add(1)
	go s.run(opts, client)
	return nil
}

func (s *Session) run(opts []dtls.Option, client bool) {
	defer s.wg.Done()
	err := s.handshake(opts, client)
	if err != nil {
		s.errMu.Lock()
		s.err = err
		s.errMu.Unlock()
		close(s.done)
		if s.ctx.Err() == nil {
			s.cfg.Log.Warn("DTLS-SRTP failed", "local", s.port.LocalAddr(), "err", err)
			if s.cfg.OnFailed != nil {
				s.cfg.OnFailed(err)
			}
		}
		return
	}
	close(s.keyed)
	close(s.done)
	// pion needs its reader running for retransmitted finished flights and alerts.
	c := s.conn.Load()
	b := make([]byte, 1500)
	for {
		if _, err := c.Read(b); err != nil {
			return
		}
	}
}

// DeferArm makes the next Start wait for Arm before the handshake timeout counts: an inbound
// leg's answer may wait for the dialplan (a bridge that rings), and the browser starts ICE and
// DTLS only when it has our SDP.
func (s *Session) DeferArm() { s.later.Store(true) }

// Arm starts the handshake timeout (once our SDP is on its way).
func (s *Session) Arm() { s.armOnce.Do(func() { close(s.armed) }) }

func (s *Session) handshake(opts []dtls.Option, client bool) error {
	select {
	case <-s.armed:
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	pc := &packetConn{s: s}
	var conn *dtls.Conn
	var err error
	if client {
		select {
		case <-s.selCh:
		case <-ctx.Done():
			return fmt.Errorf("webrtc: no ICE check before DTLS: %w", ctx.Err())
		}
		co := make([]dtls.ClientOption, len(opts))
		for i, o := range opts {
			co[i] = o
		}
		conn, err = dtls.ClientWithOptions(pc, s.peer, co...)
	} else {
		so := make([]dtls.ServerOption, 0, len(opts)+1)
		for _, o := range opts {
			so = append(so, o)
		}
		so = append(so, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		conn, err = dtls.ServerWithOptions(pc, s.peer, so...)
	}
	if err != nil {
		return err
	}
	s.conn.Store(conn)
	if err := conn.HandshakeContext(ctx); err != nil {
		if errors.Is(err, ErrFingerprint) || strings.Contains(err.Error(), ErrFingerprint.Error()) {
			return fmt.Errorf("%w: %v", ErrFingerprint, err)
		}
		return fmt.Errorf("webrtc: DTLS handshake: %w", err)
	}
	return s.installKeys(conn, client)
}

// Keyed is closed once DTLS finished and the port encrypts with the exported keys.
func (s *Session) Keyed() <-chan struct{} { return s.keyed }

// Done is closed when the handshake ended, with keys or with Err.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is the handshake's failure, nil while running or after success.
func (s *Session) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Profile is the negotiated SRTP protection profile's SDES name ("" before keys).
func (s *Session) Profile() string {
	if p := s.profile.Load(); p != nil {
		return *p
	}
	return ""
}

// Close ends DTLS (close_notify) and detaches from the port. The port stays open.
func (s *Session) Close() {
	if s.closed.Swap(true) {
		s.wg.Wait()
		return
	}
	s.cancel()
	if c := s.conn.Load(); c != nil {
		_ = c.Close()
	}
	_ = s.buf.Close()
	s.port.SetDemux(nil)
	s.wg.Wait()
}

// packetConn is the net.PacketConn pion's DTLS reads and writes: records the demux hook queued,
// sent back from the RTP socket to the selected pair.
type packetConn struct{ s *Session }

func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, _, err := c.s.buf.Read(b, nil)
	return n, c.s.peer, err
}

func (c *packetConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	sel := c.s.selected.Load()
	if sel == nil {
		return len(b), nil // no pair yet: lost like a datagram; pion retransmits the flight
	}
	if err := c.s.port.WriteRaw(b, *sel); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *packetConn) Close() error                       { return c.s.buf.Close() }
func (c *packetConn) LocalAddr() net.Addr                { return net.UDPAddrFromAddrPort(c.s.port.LocalAddr()) }
func (c *packetConn) SetDeadline(t time.Time) error      { return c.s.buf.SetReadDeadline(t) }
func (c *packetConn) SetReadDeadline(t time.Time) error  { return c.s.buf.SetReadDeadline(t) }
func (c *packetConn) SetWriteDeadline(t time.Time) error { return nil }
