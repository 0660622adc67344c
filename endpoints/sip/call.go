package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

const managerRequest = core.CauseManagerRequest

// call is one SIP dialog bound to a session: the core.Leg of both directions.
type call struct {
	p       *Profile
	s       *core.Session
	inbound bool
	key     string

	ds *sipgo.DialogServerSession // inbound
	dc *sipgo.DialogClientSession // outbound

	port *media.RTPPort

	respMu      sync.Mutex // serialises provisional responses against the final one
	mu          sync.Mutex
	remote      *sdpMedia
	local       localSDP
	localKey    *media.SRTPKey
	peerKey     *media.SRTPKey
	answered    bool
	finalSent   bool
	early       bool
	remoteCSeq  uint32
	sessTimer   *time.Timer
	sessExpires time.Duration

	final        chan struct{} // inbound: closed once a final response went out
	finalOnce    sync.Once
	cancelInvite context.CancelFunc // outbound: cancels WaitAnswer (sends CANCEL)
	answeredC    chan struct{}
	ended        atomic.Bool
	reinviting   atomic.Bool
	waitDone     chan struct{}
	lateOffer    bool                  // inbound INVITE without SDP: our 200 offers, the ACK answers
	inviteTx     sip.ClientTransaction // outbound: the INVITE's current client transaction // outbound: closed when waitAnswer returns
}

func (c *call) markFinal() { c.finalOnce.Do(func() { close(c.final) }) }

// Port implements core.Leg.
func (c *call) Port() media.Port {
	if c.port == nil {
		return nil
	}
	return c.port
}

// SendDTMF implements core.Leg: RFC 2833 when negotiated, else SIP INFO.
func (c *call) SendDTMF(d media.DTMF) error {
	if c.p.cfg.DTMFType != "info" && c.port != nil {
		return c.port.SendDTMF(d)
	}
	return c.sendInfoDTMF(d)
}

// sendInfoDTMF sends a digit as SIP INFO application/dtmf-relay.
func (c *call) sendInfoDTMF(d media.DTMF) error {
	body := fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", d.Digit, d.Duration.Milliseconds())
	req := sip.NewRequest(sip.INFO, c.remoteTarget())
	req.SetBody([]byte(body))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.do(ctx, req)
	return err
}

// Indicate implements core.Leg: hold/unhold send a re-INVITE; others are accepted silently.
func (c *call) Indicate(ctx context.Context, ind core.Indication) error {
	switch ind.Kind {
	case "hold":
		return c.reinvite(ctx, media.SendOnly)
	case "unhold":
		return c.reinvite(ctx, media.SendRecv)
	case "respond":
		return c.respond(ctx, ind.Code, ind.Data, nil)
	case "redirect":
		if c.inbound && !c.isAnswered() {
			uri := strings.Trim(strings.TrimSpace(ind.Data), "<>")
			if !validHeaderValue(uri) || uri == "" {
				return errHeaderValue
			}
			if !strings.Contains(uri, ":") {
				uri = "sip:" + uri
			}
			return c.respond(ctx, 302, "Moved Temporarily", []sip.Header{sip.NewHeader("Contact", "<"+uri+">")})
		}
		return c.refer(ctx, ind.Data)
	case "deflect":
		return c.refer(ctx, ind.Data)
	}
	return nil
}

func (c *call) isAnswered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
}

// respond sends a response chosen by the dialplan (respond app) on an unanswered inbound call:
// 1xx as progress, 2xx as answer, anything else as the final response.
func (c *call) respond(ctx context.Context, code int, reason string, hdrs []sip.Header) error {
	if !c.inbound || c.isAnswered() {
		return nil
	}
	switch {
	case code == 180:
		return c.Progress(ctx, false)
	case code == 183:
		return c.Progress(ctx, true)
	case code >= 200 && code < 300:
		return c.Answer(ctx)
	case code < 300 || code > 699:
		return fmt.Errorf("sip: cannot respond %d", code)
	}
	if reason == "" || !validHeaderValue(reason) {
		reason = statusText(code)
	}
	c.respMu.Lock()
	c.mu.Lock()
	c.respMu.Unlock()
	if c.finalSent {
		c.mu.Unlock()
		return nil
	}
	c.finalSent = true
	c.mu.Unlock()
	c.s.SetVar("sip_term_status", strconv.Itoa(code))
	c.s.SetVar("sip_hangup_disposition", "send_refuse")
	c.sendFinal(code, reason, hdrs)
	return nil
}

// sendFinal sends a non-2xx final response without blocking the session goroutine: sipgo waits
// for the ACK (or timer H) inside Respond; the INVITE handler stays alive until then.
func (c *call) sendFinal(code int, reason string, hdrs []sip.Header) {
	go func() {
		defer c.markFinal()
		if err := c.ds.Respond(code, reason, nil, hdrs...); err != nil {
			c.p.log.Debug("final response", "code", code, "err", err)
		}
	}()
}

// refer asks the far end of an answered call to call target (deflect).
func (c *call) refer(ctx context.Context, target string) error {
	uri := strings.Trim(strings.TrimSpace(target), "<>")
	if uri == "" || !validHeaderValue(uri) {
		return errHeaderValue
	}
	if !strings.Contains(uri, ":") {
		uri = "sip:" + uri
	}
	req := sip.NewRequest(sip.REFER, c.remoteTarget())
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+uri+">"))
	res, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("sip: REFER refused with %d", res.StatusCode)
	}
	return nil
}

func (c *call) remoteTarget() sip.Uri {
	if c.inbound {
		return c.ds.InviteRequest.Contact().Address
	}
	if c.dc.InviteResponse != nil && c.dc.InviteResponse.Contact() != nil {
		return c.dc.InviteResponse.Contact().Address
	}
	return c.dc.InviteRequest.Recipient
}

func (c *call) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if c.inbound {
		return c.ds.Do(ctx, req)
	}
	return c.dc.Do(ctx, req)
}

// reinvite sends a re-INVITE with our SDP in direction dir and ACKs the 2xx (sipgo does not).
func (c *call) reinvite(ctx context.Context, dir media.Direction) error {
	if !c.reinviting.CompareAndSwap(false, true) {
		return errors.New("sip: re-INVITE in progress")
	}
	defer c.reinviting.Store(false)
	c.mu.Lock()
	c.local.Version++
	c.local.Dir = dir
	body := c.local.marshal()
	c.mu.Unlock()
	req := sip.NewRequest(sip.INVITE, c.remoteTarget())
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	var tx sip.ClientTransaction
	var err error
	if c.inbound {
		tx, err = c.ds.TransactionRequest(ctx, req)
	} else {
		tx, err = c.dc.TransactionRequest(ctx, req)
	}
	if err != nil {
		return err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				return fmt.Errorf("re-INVITE: %d %s", res.StatusCode, res.Reason)
			}
			ack := sip.NewRequest(sip.ACK, c.remoteTarget())
			ack.AppendHeader(sip.HeaderClone(req.CSeq()))
			ack.CSeq().MethodName = sip.ACK
			if c.inbound {
				err = c.ds.WriteRequest(ack)
			} else {
				err = c.dc.WriteRequest(ack)
			}
			if m, perr := parseSDP(res.Body()); perr == nil {
				c.applyRemote(m)
			}
			if dir == media.SendOnly {
				c.s.SetVar("sip_hold", "true")
			} else {
				c.s.UnsetVar("sip_hold")
			}
			return err
		case <-tx.Done():
			return tx.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// applyRemote points the port at a (new) remote description.
func (c *call) applyRemote(m *sdpMedia) {
	c.mu.Lock()
	c.remote = m
	c.mu.Unlock()
	if c.port == nil {
		return
	}
	c.port.SetRemote(netip.AddrPortFrom(m.Addr, uint16(m.Port)), netip.AddrPort{})
	c.port.SetDirection(m.Dir.Reverse())
}

// newPort binds an RTP port from the profile's range (or any free pair) on the shared clock.
func (c *call) newPort() (*media.RTPPort, error) {
	p := c.p
	cfg := media.RTPConfig{Clock: p.ep.h.Clock, Timeout: p.cfg.RTPTimeout, HoldTimeout: p.cfg.RTPHoldTimeout}
	if p.cfg.RTPTimeout > 0 {
		cfg.OnTimeout = func() {
			if c.s != nil {
				c.s.Hangup(core.CauseMediaTimeout)
			}
		}
	}
	var port *media.RTPPort
	var err error
	if p.alloc != nil {
		port, err = p.alloc.Allocate(cfg)
	} else {
		port, err = media.ListenRTP(p.rtpIP, 0, cfg)
	}
	if err != nil {
		return nil, err
	}
	switch p.cfg.DTMFType {
	case "info":
		port.SetDTMFMode(media.DTMFInfo)
		port.SetInfoSender(c.sendInfoDTMF)
	case "none":
		port.SetDTMFMode(media.DTMFNone)
	case "inband":
		port.SetDTMFMode(media.DTMFInband)
	}
	return port, nil
}

// setupPort applies a negotiation result to the port.
func setupPort(port *media.RTPPort, ci media.CodecInfo, dtmf uint8, remote netip.AddrPort, dir media.Direction, lkey, pkey *media.SRTPKey) error {
	if err := port.SetCodec(ci, dtmf); err != nil {
		return err
	}
	if err := port.SetSRTP(lkey, pkey); err != nil {
		return err
	}
	port.SetRemote(remote, netip.AddrPort{})
	port.SetDirection(dir)
	return nil
}

// reasonHeader renders FreeSWITCH's Reason for a cause.
func reasonHeader(cause core.Cause) sip.Header {
	q := cause.Q850()
	return sip.NewHeader("Reason", fmt.Sprintf("Q.850;cause=%d;text=\"%s\"", q, cause.String()))
}

func newSessID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 2
}

// setupMedia negotiates an offer against prefs and binds an RTP port: the local answer SDP is in
// c.local afterwards. It returns a SIP status on failure (488).
func (c *call) answerOffer(offer *sdpMedia, prefs []string) (int, error) {
	codec, dtmf, ok := negotiate(offer, prefs, c.p.cfg.Generous)
	if !ok {
		return 488, errors.New("no common codec")
	}
	// SDES on RTP/SAVP, and on RTP/AVP when the offer carries a=crypto (best-effort SRTP, as
	// baresip's mediaenc=srtp and FreeSWITCH's rtp_secure_media=optional do).
	secure := strings.Contains(offer.Proto, "SAVP") || len(offer.Cryptos) > 0
	var lkey, pkey *media.SRTPKey
	var crypto *sdpCrypto
	if secure {
		for _, cr := range offer.Cryptos {
			suite, ok := media.LookupSRTPSuite(cr.Suite)
			if !ok || len(cr.Key) != suite.KeyLen+suite.SaltLen {
				continue
			}
			pk := media.SRTPKey{Suite: suite, Key: cr.Key[:suite.KeyLen], Salt: cr.Key[suite.KeyLen:]}
			lk, err := media.NewSRTPKey(suite)
			if err != nil {
				return 500, err
			}
			lkey, pkey = &lk, &pk
			crypto = &sdpCrypto{Tag: cr.Tag, Suite: cr.Suite, Key: lk.KeySalt()}
			break
		}
		if crypto == nil {
			return 488, errors.New("no usable crypto suite")
		}
	}
	if c.p.cfg.DTMFType == "info" || c.p.cfg.DTMFType == "none" {
		dtmf = 0
	}
	port := c.port
	if port == nil {
		var err error
		port, err = c.newPort()
		if err != nil {
			return 503, err
		}
	}
	dir := offer.Dir.Reverse()
	ci := codec.info(offer.Ptime)
	if err := setupPort(port, ci, dtmf, netip.AddrPortFrom(offer.Addr, uint16(offer.Port)), dir, lkey, pkey); err != nil {
		if c.port == nil {
			port.Close()
		}
		return 488, err
	}
	c.mu.Lock()
	if c.port == nil { // set once, before the session starts; re-INVITEs reuse it
		c.port = port
	}
	c.remote = offer
	c.localKey, c.peerKey = lkey, pkey
	if c.local.SessID == 0 {
		c.local.SessID = newSessID()
		c.local.Version = c.local.SessID
	} else {
		c.local.Version++
	}
	c.local.Addr = c.p.extRTPIP
	c.local.Port = int(port.LocalAddr().Port())
	c.local.Codecs = []sdpCodec{codec}
	c.local.DTMFPT = dtmf
	c.local.Ptime = ci.Ptime
	c.local.Dir = dir
	c.local.Crypto = crypto
	c.local.Proto = offer.Proto
	c.mu.Unlock()
	c.setMediaVars(ci, offer)
	return 0, nil
}

func (c *call) setMediaVars(ci media.CodecInfo, offer *sdpMedia) {
	s := c.s
	if s == nil {
		return
	}
	s.SetVar("remote_media_ip", offer.Addr.String())
	s.SetVar("remote_media_port", strconv.Itoa(offer.Port))
	s.SetVar("local_media_ip", c.p.rtpIP.String())
	s.SetVar("local_media_port", strconv.Itoa(int(c.port.LocalAddr().Port())))
	s.SetVar("read_codec", ci.Name)
	s.SetVar("write_codec", ci.Name)
	s.SetVar("read_rate", strconv.Itoa(ci.ClockRate))
	s.SetVar("write_rate", strconv.Itoa(ci.ClockRate))
	s.SetVar("rtp_use_codec_name", ci.Name)
	s.SetVar("rtp_use_codec_rate", strconv.Itoa(ci.ClockRate))
	s.SetVar("rtp_use_codec_ptime", strconv.Itoa(int(ci.Ptime.Milliseconds())))
	if c.localKey != nil {
		s.SetVar("rtp_has_crypto", c.localKey.Suite.Name)
		s.SetVar("rtp_secure_media_confirmed", "true")
		s.SetVar("sip_secure_media_confirmed", "true")
	}
}

// offerSDP builds an outbound offer: our codecs in outbound-codec-prefs order (or
// absolute_codec_string), SRTP when rtp_secure_media asks for it.
func (c *call) offerSDP(prefs []string, secure bool) ([]byte, error) {
	port, err := c.newPort()
	if err != nil {
		return nil, err
	}
	codecs := offerCodecs(prefs)
	if len(codecs) == 0 {
		port.Close()
		return nil, errors.New("no codecs to offer")
	}
	c.port = port
	c.local = localSDP{SessID: newSessID(), Addr: c.p.extRTPIP, Port: int(port.LocalAddr().Port()), Codecs: codecs, Dir: media.SendRecv, Ptime: 20 * time.Millisecond}
	c.local.Version = c.local.SessID
	if c.p.cfg.DTMFType != "info" && c.p.cfg.DTMFType != "none" {
		c.local.DTMFPT = c.p.cfg.RFC2833PT
	}
	if secure {
		suite, _ := media.LookupSRTPSuite("AES_CM_128_HMAC_SHA1_80")
		k, err := media.NewSRTPKey(suite)
		if err != nil {
			port.Close()
			return nil, err
		}
		c.localKey = &k
		c.local.Crypto = &sdpCrypto{Tag: 1, Suite: suite.Name, Key: k.KeySalt()}
	}
	return c.local.marshal(), nil
}

// acceptAnswer applies the far end's answer to our offer.
func (c *call) acceptAnswer(body []byte) error {
	m, err := parseSDP(body)
	if err != nil {
		return err
	}
	c.mu.Lock()
	offered := c.local.Codecs
	c.mu.Unlock()
	var chosen *sdpCodec
	var dtmf uint8
	for _, rc := range m.Codecs {
		if strings.EqualFold(rc.Name, "telephone-event") {
			if dtmf == 0 {
				dtmf = rc.PT
			}
			continue
		}
		if chosen != nil {
			continue
		}
		for _, oc := range offered {
			if strings.EqualFold(oc.Name, rc.Name) && oc.Clock == rc.Clock {
				x := rc
				chosen = &x
				break
			}
		}
	}
	if chosen == nil {
		return errors.New("answer has none of our codecs")
	}
	if c.local.DTMFPT == 0 {
		dtmf = 0
	}
	if c.localKey != nil {
		c.peerKey = nil
		for _, cr := range m.Cryptos {
			suite, ok := media.LookupSRTPSuite(cr.Suite)
			if ok && len(cr.Key) == suite.KeyLen+suite.SaltLen {
				c.peerKey = &media.SRTPKey{Suite: suite, Key: cr.Key[:suite.KeyLen], Salt: cr.Key[suite.KeyLen:]}
				break
			}
		}
		if c.peerKey == nil {
			return errors.New("answer has no usable crypto")
		}
	}
	ci := chosen.info(m.Ptime)
	if err := setupPort(c.port, ci, dtmf, netip.AddrPortFrom(m.Addr, uint16(m.Port)), m.Dir.Reverse(), c.localKey, c.peerKey); err != nil {
		return err
	}
	c.mu.Lock()
	c.remote = m
	c.local.Codecs = []sdpCodec{*chosen}
	c.local.DTMFPT = dtmf
	c.mu.Unlock()
	c.setMediaVars(ci, m)
	return nil
}

func (c *call) closeMedia() {
	if c.port != nil {
		c.port.Close()
	}
}

func (c *call) stopSessionTimer() {
	c.mu.Lock()
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.mu.Unlock()
}

// armSessionTimer (re)starts the RFC 4028 expiry: no refresh within the interval ends the call.
func (c *call) armSessionTimer(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.sessExpires = d
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.sessTimer = time.AfterFunc(d, func() {
		if c.s != nil {
			c.s.SetVar("sip_hangup_disposition", "send_bye")
			c.s.Hangup(core.CauseMediaTimeout)
		}
	})
	c.mu.Unlock()
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// watchForks ACKs and BYEs 2xx responses from other branches of a forked INVITE (a To-tag other
// than the dialog's): RFC 3261 13.2.2.4 wants every 2xx ACKed, and we keep only one dialog.
func (c *call) watchForks() {
	c.mu.Lock()
	tx := c.inviteTx
	c.mu.Unlock()
	if tx == nil || c.dc.InviteResponse == nil {
		return
	}
	first := tagOf(c.dc.InviteResponse.To().Params)
	var seen sync.Map
	tx.OnRetransmission(func(r *sip.Response) {
		if r.StatusCode/100 != 2 || r.To() == nil {
			return
		}
		if tag := tagOf(r.To().Params); tag != "" && tag != first {
			c.ackFork(r, tag, &seen)
		}
	})
}

func (c *call) ackFork(r *sip.Response, tag string, seen *sync.Map) {
	inv := c.dc.InviteRequest
	target := inv.Recipient
	if ct := r.Contact(); ct != nil {
		target = ct.Address
	}
	mk := func(m sip.RequestMethod, seq uint32) *sip.Request {
		req := sip.NewRequest(m, target)
		req.AppendHeader(sip.HeaderClone(inv.From()))
		req.AppendHeader(sip.HeaderClone(r.To()))
		req.AppendHeader(sip.HeaderClone(inv.CallID()))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: m})
		rrs := r.GetHeaders("Record-Route")
		for i := len(rrs) - 1; i >= 0; i-- {
			req.AppendHeader(sip.NewHeader("Route", rrs[i].Value()))
		}
		req.SetTransport(inv.Transport())
		req.Laddr = inv.Laddr
		if len(rrs) == 0 {
			req.SetDestination(r.Source())
		}
		return req
	}
	if err := c.p.cli.WriteRequest(mk(sip.ACK, inv.CSeq().SeqNo)); err != nil {
		c.p.log.Debug("ACK of forked 2xx", "err", err)
	}
	if _, dup := seen.LoadOrStore(tag, true); dup {
		return
	}
	c.s.Log().Info("forked 2xx from a second dialog: ACK and BYE", "to_tag", tag)
	go func() {
		ctx, cancel := contextTimeout(5 * time.Second)
		defer cancel()
		if _, err := c.p.cli.Do(ctx, mk(sip.BYE, inv.CSeq().SeqNo+1)); err != nil {
			c.p.log.Debug("BYE of forked dialog", "err", err)
		}
	}()
}

// armRefresh refreshes the session with a re-INVITE every interval/2 when we are the refresher
// (RFC 4028 10); a failed refresh ends the call.
func (c *call) armRefresh(interval time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessTimer != nil {
		c.sessTimer.Stop()
	}
	c.sessTimer = time.AfterFunc(interval/2, func() {
		if c.ended.Load() {
			return
		}
		ctx, cancel := contextTimeout(10 * time.Second)
		defer cancel()
		c.mu.Lock()
		dir := c.local.Dir
		c.mu.Unlock()
		if err := c.reinvite(ctx, dir); err != nil {
			c.s.Log().Warn("session refresh failed", "err", err)
			c.s.Hangup(core.CauseRecoveryOnTimerExpire)
			return
		}
		c.armRefresh(interval)
	})
}
