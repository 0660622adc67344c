package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// phones is the SIP side of the loadgen: one sipgo user agent on one UDP socket that is both
// the caller (INVITE b<N> to goswitch) and the callee goswitch's B leg reaches (INVITE b<N>
// back to us). The call number N in the user part ties the two legs together.
type phones struct {
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dcc  *sipgo.DialogClientCache
	dsc  *sipgo.DialogServerCache
	conn net.PacketConn
	m    *media
	addr netip.AddrPort

	mu       sync.Mutex
	answered map[int]bool // UAS legs up, by call number
	uasUp    int
	uasDown  int
}

func newPhones(listen string, m *media) (*phones, error) {
	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, err
	}
	if u, ok := conn.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(8 << 20)
		_ = u.SetWriteBuffer(8 << 20)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	quiet := slog.New(slog.NewTextHandler(discard{}, nil))
	sip.SetDefaultLogger(quiet) // sipgo's own notices (UDP refcounts) are not the load's results
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("goswitch-loadgen"), sipgo.WithUserAgentHostname(addr.Addr().String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet),
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {})), // 100 after a 407 retry
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		conn.Close()
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(addr.Addr().String()), sipgo.WithClientPort(int(addr.Port())),
		sipgo.WithClientLogger(quiet))
	if err != nil {
		ua.Close()
		conn.Close()
		return nil, err
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "loadgen", Host: addr.Addr().String(), Port: int(addr.Port())}}
	p := &phones{ua: ua, srv: srv, cli: cli, conn: conn, m: m, addr: addr, answered: map[int]bool{},
		dcc: sipgo.NewDialogClientCache(cli, contact), dsc: sipgo.NewDialogServerCache(cli, contact)}
	srv.OnInvite(p.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = p.dsc.ReadAck(req, tx) })
	srv.OnBye(p.onBye)
	go func() { _ = srv.ServeUDP(conn) }()
	// ServeUDP registers the socket from its goroutine; a request sent before would bind another.
	for range 200 {
		if c, err := ua.TransportLayer().GetConnection("udp", addr.String()); err == nil && c != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p, nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func (p *phones) close() {
	p.ua.Close()
	p.conn.Close()
}

// sdp is our offer or answer: PCMU only, on the call's shared RTP socket of side s.
func (p *phones) sdp(call int, s side) []byte {
	ip := p.addr.Addr().String()
	return []byte(fmt.Sprintf("v=0\r\no=loadgen %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", call, ip, ip, p.m.port(call, s)))
}

// remoteRTP finds the c= address and audio m= port of an SDP body.
func remoteRTP(body []byte) (netip.AddrPort, error) {
	var ip netip.Addr
	var port int
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip, _ = netip.ParseAddr(strings.Fields(v)[0])
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if !ip.IsValid() || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("no audio address in SDP")
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// callNumber is N in b<N>.
func callNumber(user string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(user, "b"))
	return n, err == nil && strings.HasPrefix(user, "b") && n >= 0
}

// onInvite answers goswitch's B leg at once and starts its RTP towards the offer.
func (p *phones) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	call, ok := callNumber(req.Recipient.User)
	if !ok || call >= len(p.m.legs[uas]) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 404, "Not Found", nil))
		return
	}
	to, err := remoteRTP(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	ds, err := p.dsc.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	p.mu.Lock()
	if p.answered[call] { // a re-INVITE: same media
		p.mu.Unlock()
		_ = ds.RespondSDP(p.sdp(call, uas))
		return
	}
	p.answered[call] = true
	p.uasUp++
	p.mu.Unlock()
	if err := ds.RespondSDP(p.sdp(call, uas)); err != nil {
		return
	}
	p.m.start(call, uas, to)
}

func (p *phones) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := p.dsc.ReadBye(req, tx); err == nil {
		if call, ok := callNumber(req.To().Address.User); ok {
			p.m.halt(call, uas, nil)
			p.mu.Lock()
			if p.answered[call] {
				delete(p.answered, call)
				p.uasDown++
			}
			p.mu.Unlock()
		}
		return
	}
	if err := p.dcc.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

// callResult is what one UAC call reports.
type callResult struct {
	setup time.Duration
	fail  string // "" when the call was answered
	early bool   // hung up by goswitch before our BYE
}

// call places call number n to goswitch at o.pbx, holds until hangup is closed, stops both
// streams, lets the packets in flight land, and sends BYE.
// setup is called once the INVITE has its final answer (or failed).
func (p *phones) call(ctx context.Context, o options, n int, hangup <-chan struct{}, setup func(time.Duration)) callResult {
	var once sync.Once
	var took time.Duration
	setupOnce := func() { once.Do(func() { setup(took) }) }
	defer setupOnce()
	user, pass := o.user, o.pass
	host, port, _ := net.SplitHostPort(o.pbx)
	pn, _ := strconv.Atoi(port)
	to := sip.Uri{Scheme: "sip", User: "b" + strconv.Itoa(n), Host: host, Port: pn}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	ictx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	t0 := time.Now()
	dc, err := p.dcc.Invite(ictx, to, p.sdp(n, uac), sip.NewHeader("Content-Type", "application/sdp"), from)
	if err != nil {
		return callResult{fail: "send: " + err.Error()}
	}
	defer dc.Close()
	err = dc.WaitAnswer(ictx, sipgo.AnswerOptions{Username: user, Password: pass})
	if err != nil {
		if r := dc.InviteResponse; r != nil && r.StatusCode >= 300 {
			return callResult{fail: strconv.Itoa(r.StatusCode)}
		}
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timed out") {
			return callResult{fail: "timeout"}
		}
		return callResult{fail: "error"}
	}
	res := callResult{setup: time.Since(t0)}
	if err := dc.Ack(ictx); err != nil {
		res.fail = "ack"
		return res
	}
	took = res.setup
	setupOnce()
	dst, err := remoteRTP(dc.InviteResponse.Body())
	if err != nil {
		res.fail = "sdp"
		_ = dc.Bye(context.Background())
		return res
	}
	p.m.start(n, uac, dst)
	select {
	case <-hangup:
	case <-dc.Context().Done():
		res.early = true
	case <-ctx.Done():
	}
	a, b := make(chan struct{}), make(chan struct{})
	p.m.halt(n, uac, a)
	p.m.halt(n, uas, b)
	<-a
	<-b
	if res.early {
		return res
	}
	time.Sleep(o.grace) // the last packets are still on their way through goswitch
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer bcancel()
	if err := dc.Bye(bctx); err != nil {
		res.fail = "bye"
	}
	return res
}
