package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/logging"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/netguard"
	"github.com/goswitch/goswitch/core/security"
)

// Profile is one running SIP profile: its sockets, sipgo stack, calls and counters.
type Profile struct {
	ep  *Endpoint
	cfg ProfileConfig
	log *slog.Logger

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	dua *sipgo.DialogUA

	sipIP, extSIPIP, rtpIP, extRTPIP netip.Addr

	udp     net.PacketConn
	tcp     net.Listener
	tlsL    net.Listener
	wsL     net.Listener // ws-binding (ws.go)
	wssL    net.Listener // wss-binding
	port    int
	tlsPort int

	nonces *nonceCache
	alloc  *rtp.PortAllocator
	sec    *security.Guard // bans, lockout, pike (security.go)

	calls    sync.Map // callID|localTag -> *call
	inviting sync.Map // Call-ID -> *outboundCall while its INVITE is unanswered (see txTracker)

	sendMu  sync.RWMutex // held (read) while a request is handed to sipgo; stop takes it to end sends
	stopped bool

	gateways []*Gateway

	started time.Time
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	callsIn, failedIn, callsOut, failedOut atomic.Uint64
	refused                                atomic.Uint64 // 503 for want of capacity (overload.go)
	challenged                             challengeTags
	dropped                                atomic.Uint64
	udpSeen                                udpSeen  // last datagram passed to sipgo (parsefail.go)
	msgs                                   msgStats // requests in, responses out (msgstats.go)
	trace                                  atomic.Bool
}

func newProfile(e *Endpoint, pc ProfileConfig) (*Profile, error) {
	p := &Profile{ep: e, cfg: pc, log: e.log.With("profile", pc.Name)}
	p.sipIP = resolveIP(pc.SIPIP)
	p.rtpIP = resolveIP(pc.RTPIP)
	if pc.RTPIP == "" {
		p.rtpIP = p.sipIP
	}
	p.extSIPIP = extIP(pc.ExtSIPIP, p.sipIP)
	p.extRTPIP = extIP(pc.ExtRTPIP, p.rtpIP)
	p.nonces = newNonceCache(pc.NonceTTL)
	p.sec = p.newGuard()
	if pc.RTPStartPort == 0 || pc.RTPEndPort == 0 {
		// switch.conf's rtp-start-port/rtp-end-port apply to every profile without its own range.
		if sw := e.h.Config().Configuration("switch.conf"); sw != nil {
			for _, el := range sw.FindElements("settings/param") {
				n, _ := strconv.Atoi(el.SelectAttrValue("value", ""))
				switch el.SelectAttrValue("name", "") {
				case "rtp-start-port":
					if pc.RTPStartPort == 0 {
						pc.RTPStartPort = n
					}
				case "rtp-end-port":
					if pc.RTPEndPort == 0 {
						pc.RTPEndPort = n
					}
				}
			}
			p.cfg = pc
		}
	}
	if pc.RTPStartPort > 0 && pc.RTPEndPort > pc.RTPStartPort {
		p.alloc = rtp.NewPortAllocator(p.rtpIP, pc.RTPStartPort, pc.RTPEndPort)
		p.alloc.Quarantine = p.portQuarantine()
	}
	return p, nil
}

// Addr returns the bound UDP/TCP address (the real port when sip-port was 0).
func (p *Profile) Addr() netip.AddrPort { return netip.AddrPortFrom(p.sipIP, uint16(p.port)) }

// TLSAddr returns the TLS listener's address, or an invalid AddrPort without TLS.
func (p *Profile) TLSAddr() netip.AddrPort {
	if p.tlsL == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(p.sipIP, uint16(p.tlsPort))
}

// Name returns the profile name.
func (p *Profile) Name() string { return p.cfg.Name }

// Config returns the profile's configuration.
func (p *Profile) Config() ProfileConfig { return p.cfg }

// listen binds UDP and TCP on one port; with port 0 it retries until both get the same one.
func (p *Profile) listen() error {
	for attempt := 0; attempt < 20; attempt++ {
		u, err := net.ListenPacket("udp", net.JoinHostPort(p.sipIP.String(), strconv.Itoa(p.cfg.SIPPort)))
		if err != nil {
			return fmt.Errorf("bind udp %s:%d: %w", p.sipIP, p.cfg.SIPPort, err)
		}
		setUDPReadBuffer(u)
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", net.JoinHostPort(p.sipIP.String(), strconv.Itoa(port)))
		if err != nil {
			u.Close()
			if p.cfg.SIPPort != 0 {
				return fmt.Errorf("bind tcp %s:%d: %w", p.sipIP, port, err)
			}
			continue
		}
		p.udp, p.tcp, p.port = u, t, port
		return nil
	}
	return fmt.Errorf("no free port pair on %s", p.sipIP)
}

func (p *Profile) start() error {
	if err := p.listen(); err != nil {
		return err
	}
	var tlsConf *tls.Config
	if p.cfg.TLS {
		c, err := p.loadTLS()
		if err != nil {
			p.udp.Close()
			p.tcp.Close()
			return err
		}
		tlsConf = c
		port := p.cfg.TLSPort
		if p.cfg.SIPPort == 0 {
			port = 0
		}
		l, err := net.Listen("tcp", net.JoinHostPort(p.sipIP.String(), strconv.Itoa(port)))
		if err != nil {
			p.udp.Close()
			p.tcp.Close()
			return fmt.Errorf("bind tls: %w", err)
		}
		// The guard sits under TLS so its caps apply before the handshake (streamlimits.go).
		gc := p.guardConfig("tls")
		gc.TLS = c
		p.tlsL, p.tlsPort = netguard.New(l, gc), l.Addr().(*net.TCPAddr).Port
	}
	p.tcp = netguard.New(p.tcp, p.guardConfig("tcp"))
	p.startWS()
	// sipgo logs what it cannot parse raw, at ERROR: cut and rate limited, strangers cannot fill the disk.
	slogger := slog.New(parseFailHandler{logging.Limit(p.log.With("sipgo", true).Handler(), logging.LimitOptions{}), p.parseFailed})
	opts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(p.cfg.UserAgent),
		sipgo.WithUserAgentHostname(p.extSIPIP.String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slogger)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slogger),
			sip.WithTransportLayerReadFilter(p.readFilter)),
	}
	if tlsConf != nil {
		opts = append(opts, sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	}
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slogger))
	if err != nil {
		ua.Close()
		return err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(p.extSIPIP.String()), sipgo.WithClientPort(p.port),
		sipgo.WithClientNAT(), sipgo.WithClientLogger(slogger)) // rport in our Via (RFC 3581)
	if err != nil {
		ua.Close()
		return err
	}
	cli.TxRequester = &txTracker{p: p, tp: ua.TransportLayer(), txl: ua.TransactionLayer()}
	p.ua, p.srv, p.cli = ua, srv, cli
	p.dua = &sipgo.DialogUA{Client: cli, RewriteContact: true, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "mod_sofia", Host: p.extSIPIP.String(), Port: p.port},
	}}
	p.routes()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.started = time.Now()
	serve := func(fn func() error) {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := fn(); err != nil && p.ctx.Err() == nil {
				p.log.Error("listener ended", "err", err)
			}
		}()
	}
	serve(func() error { return srv.ServeUDP(p.udp) })
	serve(func() error { return srv.ServeTCP(p.tcp) })
	if p.tlsL != nil {
		serve(func() error { return srv.ServeTLS(p.tlsL) })
	}
	if p.wsL != nil {
		serve(func() error { return srv.ServeWS(p.wsL) })
	}
	if p.wssL != nil {
		serve(func() error { return srv.ServeWSS(p.wssL) })
	}
	// ServeUDP registers the listener in sipgo's pool from its goroutine; until then a request
	// sent from this profile (a gateway REGISTER at start-up) would try to bind a second socket
	// on the same address. Wait for it.
	for i := 0; i < 200; i++ {
		if c, err := ua.TransportLayer().GetConnection("udp", p.udp.LocalAddr().String()); err == nil && c != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, gc := range p.cfg.Gateways {
		g := newGateway(p, gc)
		p.gateways = append(p.gateways, g)
		g.start()
	}
	if p.tlsL != nil {
		p.log.Info("profile started", "udp", p.Addr().String(), "tcp", p.Addr().String(), "tls", p.TLSAddr().String())
	} else {
		p.log.Info("profile started", "udp", p.Addr().String(), "tcp", p.Addr().String())
	}
	p.warnWeakUsers()
	p.publishProfileEvent("sofia::profile_start")
	return nil
}

// rescan adds gateways that appeared in the configuration (sofia profile X rescan).
func (p *Profile) rescan(pc ProfileConfig) {
	known := map[string]bool{}
	for _, g := range p.gateways {
		known[g.cfg.Name] = true
	}
	for _, gc := range pc.Gateways {
		if known[gc.Name] {
			continue
		}
		g := newGateway(p, gc)
		p.ep.mu.Lock()
		p.gateways = append(p.gateways, g)
		p.ep.gateways[gc.Name] = g
		p.ep.mu.Unlock()
		g.start()
	}
}

func (p *Profile) stop() {
	for _, g := range p.gateways {
		g.stop()
	}
	p.calls.Range(func(_, v any) bool {
		c := v.(*call)
		if c.s != nil {
			c.s.Hangup(managerRequest)
		}
		return true
	})
	// Let the hangups send their BYE or CANCEL while the transport is still up (a BYE that
	// gets no answer still ends its call locally; this only bounds the wait).
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) && p.hasCalls(); {
		time.Sleep(10 * time.Millisecond)
	}
	// From here no request leaves: sipgo would open a fresh socket (and a reader goroutine that
	// nothing closes) for a request sent after its listeners are gone.
	p.sendMu.Lock()
	p.stopped = true
	p.sendMu.Unlock()
	p.cancel()
	p.udp.Close()
	p.tcp.Close()
	if p.tlsL != nil {
		p.tlsL.Close()
	}
	for _, l := range []net.Listener{p.wsL, p.wssL} {
		if l != nil {
			l.Close()
		}
	}
	p.ua.Close()
	p.wg.Wait()
	p.log.Info("profile stopped")
}

// routes installs the request handlers. Every request, whatever its method, is validated first
// (validateRequest); the ones handlers rely on are guarded too.
func (p *Profile) routes() {
	s := p.srv
	v := p.validated
	s.OnInvite(v(p.guard(p.onInvite)))
	s.OnAck(v(p.onAck))
	s.OnBye(v(p.guard(p.onBye)))
	s.OnCancel(v(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}))
	s.OnRegister(v(p.guard(p.onRegister)))
	s.OnOptions(v(p.guard(p.onOptions)))
	s.OnInfo(v(p.guard(p.authOutOfDialog("", p.onInfo))))
	s.OnRefer(v(p.guard(p.onRefer)))
	s.OnUpdate(v(p.guard(p.onUpdate)))
	s.OnPrack(v(p.guard(p.onPrack)))
	s.OnNotify(v(p.guard(p.authOutOfDialog("", p.onNotify))))
	s.OnSubscribe(v(p.guard(p.onSubscribe)))
	s.OnMessage(v(p.guard(p.authOutOfDialog("auth-messages", p.onMessage))))
	s.OnRequest(sip.PUBLISH, v(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 501, "Not Implemented", nil))
	}))
	// Methods we do not know (RFC 3261 8.2.1: 405 is for known ones we refuse).
	s.OnNoRoute(v(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 501, "Not Implemented", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowHeader))
		tx.Respond(res)
	}))
}

// validated answers requests validateRequest refuses (an invalid ACK is dropped) and passes the
// rest to h.
func (p *Profile) validated(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		tx = p.countRequest(req, tx, strings.EqualFold(req.Transport(), "udp")) // msgstats.go
		if r := validateRequest(req); r != nil {
			if req.IsAck() {
				p.dropped.Add(1)
				return
			}
			p.reject(req, tx, r)
			return
		}
		h(req, tx)
	}
}

// guard answers requests that lack what every handler relies on with 400 instead of panicking.
func (p *Profile) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
			p.dropped.Add(1)
			tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		if len(req.Body()) > maxBody {
			p.dropped.Add(1)
			tx.Respond(sip.NewResponseFromRequest(req, 513, "Message Too Large", nil))
			return
		}
		defer func() {
			if r := recover(); r != nil {
				p.dropped.Add(1)
				p.log.Error("request handler panic", "method", req.Method, "panic", r)
				tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			}
		}()
		h(req, tx)
	}
}

// maxBody bounds request bodies (an SDP is a few hundred bytes); larger gets 513.
const maxBody = 16 << 10

// allowHeader lists what we accept, for OPTIONS and 405/501.
const allowHeader = "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, NOTIFY, SUBSCRIBE"

func (p *Profile) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	if p.paramBool("manage-presence", false) {
		res.AppendHeader(sip.NewHeader("Allow-Events", allowEvents))
	}
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "timer, path, replaces"))
	res.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	tx.Respond(res)
}

// readFilter runs on every datagram/segment before parsing: requests from banned sources,
// floods from one address (pike) and oversize messages are dropped (and counted) before they
// cost a parse.
func (p *Profile) readFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if p.secFilter(info, data) {
		p.dropped.Add(1)
		return nil, nil
	}
	if p.trace.Load() {
		p.log.Info(fmt.Sprintf("recv %d bytes from %s/%s:\n%s", len(data), info.Transport, info.RemoteAddr, data))
	}
	if len(data) > sip.ParseMaxMessageLength {
		p.dropped.Add(1)
		return nil, nil
	}
	if info.Transport == "UDP" || info.Transport == "udp" {
		// A datagram is a whole message: refuse what sipgo would drop silently or misread.
		if res, dst := quickReject(data, info.RemoteAddr); res != nil || dst != nil {
			p.dropped.Add(1)
			if res != nil && dst != nil {
				p.udp.WriteTo(res, dst)
			}
			return nil, nil
		}
		data = normalizeHeaders(data)
		p.udpSeen.keep(info.RemoteAddr, data) // what sipgo cannot parse is answered from this copy
	}
	return data, nil
}

// sourceAddr returns a request's source address.
func sourceAddr(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func transportName(req *sip.Request) string {
	return strings.ToUpper(req.Transport())
}

func (p *Profile) publishProfileEvent(sub string) {
	e := p.ep.h.Bus.New("CUSTOM", sub)
	e.Add("profile_name", p.cfg.Name)
	e.Add("profile_uri", p.url())
	p.ep.h.Bus.Publish(e)
}

// url is the profile's sip URL as sofia status shows it.
func (p *Profile) url() string {
	return fmt.Sprintf("sip:mod_sofia@%s:%d", p.extSIPIP, p.port)
}

var errProfileStopped = errors.New("sip: profile stopped")

func (p *Profile) hasCalls() bool {
	has := false
	p.calls.Range(func(_, _ any) bool { has = true; return false })
	return has
}
