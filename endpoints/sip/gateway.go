package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
)

// Gateway is a configured upstream: registration state machine and OPTIONS ping.
// Its goroutine is owned by the gateway and stopped by stop.
type Gateway struct {
	p   *Profile
	cfg GatewayConfig

	mu       sync.Mutex
	state    string // NOREG, TRYING, REGED, FAIL_WAIT, UNREGED
	status   string // UP, DOWN
	pingFail int
	pingTime time.Duration
	upSince  time.Time
	cseq     uint32
	callID   string

	callsIn, callsOut, failedIn, failedOut atomic.Uint64

	cancel context.CancelFunc
	done   chan struct{}
}

func newGateway(p *Profile, cfg GatewayConfig) *Gateway {
	st := "NOREG"
	if cfg.Register {
		st = "UNREGED"
	}
	return &Gateway{p: p, cfg: cfg, state: st, status: "UP", callID: sip.GenerateTagN(24), cseq: 1, upSince: time.Now()}
}

func (g *Gateway) start() {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.done = cancel, make(chan struct{})
	go g.run(ctx)
}

func (g *Gateway) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	<-g.done
	if g.State() == "REGED" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		g.register(ctx, 0)
		cancel()
	}
}

// State returns the registration state.
func (g *Gateway) State() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// Status returns UP or DOWN (ping).
func (g *Gateway) Status() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

func (g *Gateway) setState(st string) {
	g.mu.Lock()
	changed := g.state != st
	g.state = st
	g.mu.Unlock()
	if changed {
		g.publish()
	}
}

func (g *Gateway) publish() {
	e := g.p.ep.h.Bus.New("CUSTOM", "sofia::gateway_state")
	e.Add("Gateway", g.cfg.Name)
	e.Add("State", g.State())
	e.Add("Ping-Status", g.Status())
	g.p.ep.h.Bus.Publish(e)
}

func (g *Gateway) run(ctx context.Context) {
	defer close(g.done)
	var regT, pingT <-chan time.Time
	if g.cfg.Register {
		regT = time.After(0)
	}
	var ping *time.Ticker
	if g.cfg.Ping > 0 {
		ping = time.NewTicker(g.cfg.Ping)
		defer ping.Stop()
		pingT = ping.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-regT:
			g.setState("TRYING")
			if g.register(ctx, g.cfg.Expire) {
				g.setState("REGED")
				regT = time.After(g.cfg.Expire * 9 / 10)
			} else if ctx.Err() == nil {
				g.setState("FAIL_WAIT")
				regT = time.After(g.cfg.Retry)
			}
		case <-pingT:
			g.ping(ctx)
		}
	}
}

func (g *Gateway) proxyAddr(proxy string) string {
	u, err := parseTarget(proxy)
	if err != nil {
		return proxy
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// register sends one REGISTER (answering a digest challenge once); expires 0 unregisters.
func (g *Gateway) register(ctx context.Context, expires time.Duration) bool {
	p := g.p
	ru := sip.Uri{Scheme: "sip", Host: g.cfg.Realm}
	req := sip.NewRequest(sip.REGISTER, ru)
	req.SetDestination(g.proxyAddr(g.cfg.RegisterProxy))
	req.SetTransport(g.cfg.Transport)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: g.cfg.Username, Host: g.cfg.FromDom}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: g.cfg.Username, Host: g.cfg.FromDom}, Params: sip.NewParams()})
	cid := sip.CallIDHeader(g.callID)
	req.AppendHeader(&cid)
	g.mu.Lock()
	g.cseq++
	cseq := g.cseq
	g.mu.Unlock()
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: g.cfg.Extension, Host: p.extSIPIP.String(), Port: p.port}})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires.Seconds()))))
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	if g.cfg.Transport == "udp" {
		req.Laddr = sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := p.cli.Do(rctx, req)
	if err != nil {
		p.log.Warn("gateway register failed", "gateway", g.cfg.Name, "err", err)
		return false
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		req.RemoveHeader("Via")
		g.mu.Lock()
		g.cseq++
		g.mu.Unlock()
		res, err = p.cli.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: g.cfg.Username, Password: g.cfg.Password})
		if err != nil {
			p.log.Warn("gateway register failed", "gateway", g.cfg.Name, "err", err)
			return false
		}
	}
	if res.StatusCode != 200 {
		p.log.Warn("gateway registration refused", "gateway", g.cfg.Name, "status", res.StatusCode)
		return false
	}
	return true
}

// ping sends OPTIONS; PingMaxFail failures in a row mark the gateway DOWN, a success UP.
func (g *Gateway) ping(ctx context.Context) {
	p := g.p
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", User: g.cfg.Username, Host: g.cfg.Realm})
	req.SetDestination(g.proxyAddr(g.cfg.Proxy))
	req.SetTransport(g.cfg.Transport)
	if g.cfg.Transport == "udp" {
		req.Laddr = sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := p.cli.Do(rctx, req)
	ok := err == nil && res.StatusCode < 500 && res.StatusCode != 408
	g.mu.Lock()
	prev := g.status
	if ok {
		g.pingFail = 0
		g.pingTime = time.Since(start)
		g.status = "UP"
		if prev != "UP" {
			g.upSince = time.Now()
		}
	} else {
		g.pingFail++
		if g.pingFail >= g.cfg.PingMaxFail {
			g.status = "DOWN"
		}
	}
	cur := g.status
	g.mu.Unlock()
	if cur != prev {
		g.publish()
	}
}

// originate dials number through the gateway.
func (g *Gateway) originate(ctx context.Context, s *core.Session, number string) (core.Leg, error) {
	if g.Status() == "DOWN" {
		return nil, &core.CallError{Cause: core.CauseGatewayDown, SIP: 503, Reason: "gateway " + g.cfg.Name + " is down"}
	}
	target := number + "@" + g.cfg.Realm
	leg, err := g.p.originate(ctx, s, target, g)
	if err != nil {
		g.failedOut.Add(1)
	}
	return leg, err
}

// statusText renders "sofia status gateway <name>".
func (g *Gateway) statusText() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	pw := "no"
	if g.cfg.Password != "" {
		pw = "yes"
	}
	p := g.p
	lines := [][2]string{
		{"Name", g.cfg.Name}, {"Profile", p.cfg.Name}, {"Scheme", "Digest"}, {"Realm", g.cfg.Realm},
		{"Username", g.cfg.Username}, {"Password", pw},
		{"From", fmt.Sprintf("<sip:%s@%s>", g.cfg.FromUser, g.cfg.FromDom)},
		{"Contact", fmt.Sprintf("<sip:%s@%s:%d>", g.cfg.Extension, p.extSIPIP, p.port)},
		{"Exten", g.cfg.Extension}, {"To", fmt.Sprintf("sip:%s@%s", g.cfg.Username, g.cfg.FromDom)},
		{"Proxy", "sip:" + g.cfg.Proxy}, {"Context", firstNonEmpty(g.cfg.Context, p.cfg.Context)},
		{"Expires", strconv.Itoa(int(g.cfg.Expire.Seconds()))}, {"Freq", strconv.Itoa(int(g.cfg.Expire.Seconds()))},
		{"Ping", "0"}, {"PingFreq", strconv.Itoa(int(g.cfg.Ping.Seconds()))},
		{"PingTime", fmt.Sprintf("%.2f", float64(g.pingTime.Microseconds())/1000)},
		{"PingState", fmt.Sprintf("0/0/%d", g.pingFail)},
		{"State", g.state}, {"Status", g.status},
		{"Uptime", strconv.Itoa(int(time.Since(g.upSince).Seconds()))},
		{"CallsIN", strconv.FormatUint(g.callsIn.Load(), 10)}, {"CallsOUT", strconv.FormatUint(g.callsOut.Load(), 10)},
		{"FailedCallsIN", strconv.FormatUint(g.failedIn.Load(), 10)}, {"FailedCallsOUT", strconv.FormatUint(g.failedOut.Load(), 10)},
	}
	out := "=================================================================================================\n"
	for _, l := range lines {
		out += fmt.Sprintf("%s\t%s\n", l[0], l[1])
	}
	return out + "=================================================================================================\n"
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// gatewayFor returns the gateway whose proxy (address and port) sent the request, if any.
func (p *Profile) gatewayFor(src netip.AddrPort) *Gateway {
	p.ep.mu.RLock()
	gws := p.gateways
	p.ep.mu.RUnlock()
	for _, g := range gws {
		ap, err := netip.ParseAddrPort(g.proxyAddr(g.cfg.Proxy))
		if err == nil && ap.Addr().Unmap() == src.Addr() && ap.Port() == src.Port() {
			return g
		}
	}
	return nil
}
