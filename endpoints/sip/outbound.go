package sip

import (
	"context"
	"net"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core"
)

// originate sends the INVITE of an outbound leg and returns at once; a goroutine owned by the
// call waits for the answer and reports to s. buildInvite (invite.go) writes the request from
// the session's variables; the SDP offer needs the leg's RTP port, so it is made here, between
// the two; send puts it on the wire.
func (p *Profile) originate(ctx context.Context, s *core.Session, target string, gw *Gateway) (core.Leg, error) {
	spec := p.inviteSpec(s, target, gw)
	inv, err := buildInvite(spec)
	if err != nil {
		return nil, err
	}
	if inv.badHeader {
		s.Log().Warn("refused unsafe sip_h_ variable (CR/LF, control bytes or reserved name)")
	}
	vars := s.Vars()
	c := newOutboundCall(p, s)
	c.wantRTC = OfferWebRTC(vars.Value, inv.transport)
	setOriginatorCodec(s)
	// The far end of an outbound leg is trusted to transfer only when it is a registered contact
	// (it authenticated to register); a gateway or a bare URI is not.
	c.auth = authority{authed: gw == nil && p.registeredContact(target), context: p.cfg.Context}
	if gw != nil && gw.cfg.Context != "" {
		c.auth.context = gw.cfg.Context
	}
	// The full offer; over UDP an INVITE too big for it goes over TCP (udpsize.go).
	pr := negotiationPrefs(&p.cfg, false, false, vars.Value)
	body, err := c.buildOffer(pr)
	if err != nil {
		if ae, ok := p.admissionRefusal(err); ok {
			return nil, &core.CallError{Cause: core.CauseSwitchCongestion, SIP: 503, Reason: ae.Error(), Err: err}
		}
		return nil, &core.CallError{Cause: core.CauseIncompatibleDestination, Err: err}
	}
	inv.req.SetBody(body)
	return p.send(c, inv, gw, pr)
}

// inviteSpec gathers buildInvite's inputs from the session, the gateway and the profile.
func (p *Profile) inviteSpec(s *core.Session, target string, gw *Gateway) inviteSpec {
	vars := s.Vars()
	prof := s.Profile()
	spec := inviteSpec{
		target: target, vars: vars.Value, varList: vars.List(), uuid: s.UUID(),
		cidName: prof.CallerIDName, cidNumber: prof.CallerIDNumber,
		profile: p.cfg.Name, extIP: p.extSIPIP.String(), contact: p.dua.ContactHDR.Address,
		tlsPort: p.tlsPort, listenerFor: p.wsListenerFor, supported: p.supportedHeader(),
		userAgent: p.cfg.UserAgent, laddr: sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port},
		fromTag: sip.GenerateTagN(16), callID: uuid.NewString(),
	}
	if a := s.Originator(); a != nil {
		spec.originatorMaxFwd = a.Var("max_forwards")
	}
	if p.cfg.SessionTimeout > 0 && p.timerEnabled() {
		spec.sessionExp, spec.minSE = p.cfg.SessionTimeout, p.cfg.MinSE
	}
	if gw != nil {
		spec.gw = &gw.cfg
	}
	return spec
}

// send names the leg, sends its INVITE (writeInvite: over TCP when too big for UDP) and starts
// waitAnswer, which owns the INVITE transaction until a final response.
func (p *Profile) send(c *outboundCall, inv *invite, gw *Gateway, pr sdpPrefs) (core.Leg, error) {
	s, req := c.s, inv.req
	s.SetName(inv.name)
	for _, kv := range inv.vars {
		s.SetVar(kv[0], kv[1])
	}
	p.callsOut.Add(1)
	ictx, cancel := context.WithCancel(context.Background())
	c.cancelInvite = cancel
	p.inviting.Store(inv.callID, c)
	dc, used, err := c.writeInvite(ictx, req, inv.auth.pass != "", func() ([]byte, error) { return c.buildOffer(compactForUDP(pr)) })
	if used != inv.transport {
		s.SetVar("sip_via_protocol", used)
	}
	if err != nil {
		p.inviting.Delete(inv.callID)
		cancel()
		c.closeMedia()
		p.failedOut.Add(1)
		return nil, &core.CallError{Cause: core.CauseDestinationOutOfOrder, SIP: 502, Err: err}
	}
	c.dc = dc
	c.key = callKey(req.CallID().Value(), tagOf(inv.from.Params))
	s.SetVar("sip_call_id", req.CallID().Value())
	p.calls.Store(c.key, &c.call)
	c.waitDone = make(chan struct{})
	// The leg must be attached before a 183 can arrive: the bridge joins early media through it.
	s.SetLeg(c)
	go c.waitAnswer(ictx, inv.auth, gw)
	go p.watchCall(&c.call) // drops the dialog from the table however the leg ends
	return c, nil
}
