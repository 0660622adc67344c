package sip

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Requests too big for UDP (RFC 3261 §18.1.1): a request over 1300 bytes, the path MTU being
// unknown, MUST go over a congestion-controlled transport. sipgo refuses such a UDP write
// (sip.ErrUDPMTUCongestion, at UDPMTUSize-200) and never changes transport itself, so the
// outbound INVITE is measured here: too big for UDP, it goes over TCP to the same host and
// port, with Via and Contact saying TCP so the whole dialog follows. A peer that takes no TCP
// (connection refused, or no answer to the connect) gets the INVITE again over UDP with the
// compact offer (compactForUDP), as FreeSWITCH's sofia retries UDP when TCP fails.

// udpSizeLimit is the largest request sipgo writes on UDP.
const udpSizeLimit = 1300 // sipgo: sip.UDPMTUSize-200

// Bytes the request grows by after we measure it: sipgo's Via and CSeq, and on a 401/407
// retry the Authorization header with its nonce, cnonce and response.
const (
	viaReserve  = 160
	authReserve = 320
)

// tcpConnectTimeout bounds the TCP connect of an upgraded request before falling back to UDP.
const tcpConnectTimeout = 4 * time.Second

// tooBigForUDP reports whether req, as sipgo will send it (and as a digest retry would resend
// it when credentials are at hand), passes the UDP limit.
func tooBigForUDP(req *sip.Request, mayAuth bool) bool {
	n := len(req.String()) + viaReserve
	if mayAuth {
		n += authReserve
	}
	return n > udpSizeLimit
}

// setRequestTransport points an outbound INVITE (and so its dialog) at transport: sipgo's Via
// and every in-dialog request follow req's transport; our Contact carries it as a URI param so
// the far end's requests come back on it too. UDP requests keep the profile's socket as source.
func (p *Profile) setRequestTransport(req *sip.Request, transport string) {
	req.SetTransport(transport)
	if ct := req.Contact(); ct != nil {
		if ct.Address.UriParams == nil {
			ct.Address.UriParams = sip.NewParams()
		} else {
			ct.Address.UriParams = ct.Address.UriParams.Clone() // not shared with a clone
		}
		ct.Address.UriParams.Remove("transport")
		if transport != "udp" {
			ct.Address.UriParams.Add("transport", transport)
		}
	}
	if transport == "udp" {
		req.Laddr = sip.Addr{IP: p.sipIP.AsSlice(), Port: p.port}
	} else {
		req.Laddr = sip.Addr{}
	}
}

// writeInvite sends the INVITE; a UDP request too big for UDP goes over TCP, and back over UDP
// with the offer compact() builds when the peer cannot take TCP. It returns the transport used.
func (c *outboundCall) writeInvite(ctx context.Context, req *sip.Request, mayAuth bool, compact func() ([]byte, error)) (*sipgo.DialogClientSession, string, error) {
	p := c.p
	if !strings.EqualFold(req.Transport(), "udp") || !tooBigForUDP(req, mayAuth) {
		dc, err := p.dua.WriteInvite(ctx, req)
		return dc, strings.ToLower(req.Transport()), err
	}
	udp := req.Clone() // before sipgo adds Via, CSeq and the rest
	p.setRequestTransport(req, "tcp")
	dctx, cancel := context.WithTimeout(ctx, tcpConnectTimeout)
	dc, err := p.dua.WriteInvite(dctx, req)
	cancel()
	if err == nil || ctx.Err() != nil {
		return dc, "tcp", err
	}
	c.s.Log().Info("INVITE too big for UDP and TCP failed: compact offer over UDP", "size", len(udp.String()), "err", err)
	body, cerr := compact()
	if cerr != nil {
		return nil, "udp", cerr
	}
	udp.SetBody(body)
	p.setRequestTransport(udp, "udp")
	dc, err = p.dua.WriteInvite(ctx, udp)
	return dc, "udp", err
}

// addDialogContact gives an in-dialog request of an outbound leg the Contact of its INVITE,
// whose transport param says how the dialog runs (sipgo would add the profile's UDP one).
func (c *call) addDialogContact(req *sip.Request) {
	if c.out == nil || c.out.dc == nil || req.Contact() != nil {
		return
	}
	if ct := c.out.dc.InviteRequest.Contact(); ct != nil {
		req.AppendHeader(sip.HeaderClone(ct))
	}
}
