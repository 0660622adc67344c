package sip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/sdp"
	"github.com/goswitch/goswitch/core/webrtc"
)

const managerRequest = core.CauseManagerRequest

// call is the part of a SIP dialog that both directions share: the session, RTP port and SDP
// state, the session timer, DTMF and in-dialog requests (re-INVITE, INFO, REFER). It is
// embedded in inboundCall (inboundcall.go) or outboundCall (outboundcall.go), as diago embeds
// DialogMedia in DialogServerSession and DialogClientSession; each of those is its
// direction's core.Leg. The profile's dialog table holds *call.
type call struct {
	p    *Profile
	s    *core.Session
	key  string
	auth authority // what the far end may ask for (REFER); fixed when the dialog begins

	// The direction: exactly one is set, to the value that embeds this call.
	in  *inboundCall
	out *outboundCall

	port *rtp.RTPPort
	rtc  *webrtc.Session // WebRTC leg: ICE-lite and DTLS-SRTP on port (webrtc.go), under mu
	// wantRTC makes our offers WebRTC (media_webrtc, or a WS/WSS target); set before the offer.
	wantRTC bool

	mu          sync.Mutex
	answered    bool
	early       bool
	remoteCSeq  uint32
	sessTimer   *time.Timer
	sessExpires time.Duration

	answeredC  chan struct{}
	ended      atomic.Bool
	reinviting atomic.Bool

	// SDP state, under mu; core/sdp does the offer/answer (see sdp.go).
	sdpSessID   uint64
	sdpVersion  uint64
	localSDP    []byte          // our current description: the answer, or our offer
	remoteOffer []byte          // the last offer we answered (late negotiation redoes it)
	offer       *sdp.Offer      // our outstanding offer, to read its answer
	res         *sdp.Result     // the negotiation in force
	negKey      string          // sdpPrefs.key localSDP was built with
	sdpSent     bool            // localSDP went out in a 183/200: no more late negotiation
	holdDir     media.Direction // what we want: SendOnly while we hold the far end
	lateOffer   bool            // inbound INVITE without SDP: our 200 offers, the ACK answers

	reAck    chan struct{} // under mu: closed by the ACK of the re-INVITE 2xx we retransmit
	reAckSeq uint32        // that re-INVITE's CSeq

	weRefresh atomic.Bool // we are the session timer's refresher (sessiontimer.go)
}

// sipDialog is what in-dialog requests need of sipgo's dialog, server (inbound) or client
// (outbound) side.
type sipDialog interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	TransactionRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
	WriteRequest(req *sip.Request) error
}

// dialog is the sipgo dialog of the call's direction.
func (c *call) dialog() sipDialog {
	if c.in != nil {
		return c.in.ds
	}
	return c.out.dc
}

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
// An unanswered inbound call handles respond and redirect itself (inboundCall.Indicate).
func (c *call) Indicate(ctx context.Context, ind core.Indication) error {
	switch ind.Kind {
	case "hold":
		return c.reinvite(ctx, media.SendOnly)
	case "unhold":
		return c.reinvite(ctx, media.SendRecv)
	case "redirect", "deflect":
		return c.refer(ctx, ind.Data)
	case "display":
		return c.sendDisplay(ctx, ind.Data)
	}
	return nil
}

func (c *call) isAnswered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answered
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
	if c.in != nil {
		return c.in.ds.InviteRequest.Contact().Address
	}
	dc := c.out.dc
	if dc.InviteResponse != nil && dc.InviteResponse.Contact() != nil {
		return dc.InviteResponse.Contact().Address
	}
	return dc.InviteRequest.Recipient
}

func (c *call) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return c.dialog().Do(ctx, req)
}

// reinvite sends a re-INVITE with our SDP in direction dir and ACKs the 2xx (sipgo does not).
func (c *call) reinvite(ctx context.Context, dir media.Direction) error {
	if !c.reinviting.CompareAndSwap(false, true) {
		return errors.New("sip: re-INVITE in progress")
	}
	defer c.reinviting.Store(false)
	off, err := c.reoffer(dir)
	if err != nil {
		return err
	}
	body := off.SDP
	req := sip.NewRequest(sip.INVITE, c.remoteTarget())
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	c.addDialogContact(req)
	c.addSessionHeaders(req)
	tx, err := c.dialog().TransactionRequest(ctx, req)
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
			err = c.dialog().WriteRequest(ack)
			r, perr := off.ParseAnswer(res.Body())
			if perr == nil {
				perr = applyResult(c.port, r)
			}
			if perr != nil {
				c.s.Log().Warn("re-INVITE answer refused", "err", perr)
			} else {
				c.mu.Lock()
				c.res = r
				c.mu.Unlock()
				c.setMediaVars(r)
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

// newPort binds an RTP port from the profile's range (or any free pair) on the shared clock.
func (c *call) newPort() (*rtp.RTPPort, error) {
	p := c.p
	cfg := rtp.RTPConfig{Clock: p.ep.h.Clock, Timeout: p.cfg.RTPTimeout, HoldTimeout: p.cfg.RTPHoldTimeout}
	if p.cfg.RTPTimeout > 0 {
		cfg.OnTimeout = func() {
			if c.s != nil {
				c.s.Hangup(core.CauseMediaTimeout)
			}
		}
	}
	var port *rtp.RTPPort
	var err error
	if p.alloc != nil {
		port, err = p.alloc.Allocate(cfg)
	} else {
		port, err = rtp.ListenRTP(p.rtpIP, 0, cfg)
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

func newSessID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 2
}

func (c *call) closeMedia() {
	c.closeWebRTC()
	if c.port != nil {
		c.port.Close()
	}
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
