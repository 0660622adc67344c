package sip

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/sdp"
	"github.com/goswitch/goswitch/core/webrtc"
)

// WebRTC legs (FreeSWITCH's media_webrtc): a browser's UDP/TLS/RTP/SAVPF offer is answered with
// ICE-lite and DTLS-SRTP on the leg's ordinary RTP port (core/webrtc); an outbound leg offers it
// when media_webrtc is true or the target is reached over WS/WSS. Once keyed, the port is an
// SRTP leg like any other, so bridging to a plain or SDES leg relays (re-encrypting) as usual.

// WebRTCTransport reports whether a SIP transport implies WebRTC media: FreeSWITCH offers it
// to registrations over WebSocket (RFC 7118), whose user agents are browsers.
func WebRTCTransport(transport string) bool {
	t := strings.ToLower(transport)
	return t == "ws" || t == "wss"
}

// OfferWebRTC is whether an outbound leg offers WebRTC media: the media_webrtc channel
// variable, or a WS/WSS transport.
func OfferWebRTC(get func(string) string, transport string) bool {
	return core.True(get("media_webrtc")) || WebRTCTransport(transport)
}

// ensureWebRTC attaches the leg's ICE-lite/DTLS session to port on first use.
func (c *call) ensureWebRTC(port *rtp.RTPPort) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rtc != nil {
		return nil
	}
	s, err := webrtc.New(port, webrtc.Config{OnFailed: c.webrtcFailed, AllowPeer: c.p.candidateACL(), Log: c.p.ep.log})
	if err != nil {
		return err
	}
	c.rtc = s
	return nil
}

// webrtcFailed hangs the call up when DTLS fails (wrong fingerprint, no handshake): there
// is no media without it, as FreeSWITCH does.
func (c *call) webrtcFailed(err error) {
	if c.s != nil {
		c.s.Log().Warn("WebRTC DTLS-SRTP failed, hanging up", "err", err)
		c.s.Hangup(core.CauseIncompatibleDestination)
	}
}

// webrtcLocalLocked is our ICE/DTLS side for the SDP, nil for a plain leg. Caller holds c.mu.
func (c *call) webrtcLocalLocked() *sdp.WebRTCLocal {
	if c.rtc == nil {
		return nil
	}
	l := c.rtc.Local()
	w := &sdp.WebRTCLocal{Ufrag: l.Ufrag, Pwd: l.Pwd, Fingerprint: l.Fingerprint}
	if c.res != nil && c.res.WebRTC != nil {
		w.Setup = c.res.WebRTC.LocalSetup // a re-INVITE keeps the DTLS role
	}
	return w
}

// startWebRTC starts (or, on a re-INVITE, refreshes) DTLS after a WebRTC negotiation.
func (c *call) startWebRTC(port *rtp.RTPPort, r *sdp.Result) error {
	if r.WebRTC == nil {
		return nil
	}
	c.mu.Lock()
	s := c.rtc
	waitSDP := c.in != nil && !c.sdpSent
	c.mu.Unlock()
	if s == nil {
		return errors.New("sip: WebRTC answer on a leg without a DTLS session")
	}
	if waitSDP {
		s.DeferArm() // the handshake timeout counts from our 183 or 200 (armWebRTC)
	}
	s.Relatch() // the SDP's address must not replace the pair ICE selected
	w := r.WebRTC
	return s.Start(webrtc.Remote{Ufrag: w.Ufrag, Pwd: w.Pwd, Fingerprint: w.Fingerprint, Setup: w.Setup}, w.DTLSClient())
}

// armWebRTC starts the DTLS timeout once our SDP went out in a 183 or 200.
func (c *call) armWebRTC() {
	c.mu.Lock()
	s := c.rtc
	c.mu.Unlock()
	if s != nil {
		s.Arm()
	}
}

// closeWebRTC ends DTLS with the call.
func (c *call) closeWebRTC() {
	c.mu.Lock()
	s := c.rtc
	c.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// candidateACL is the profile's apply-candidate-acl (comma-separated ACL names, the param may
// repeat in FreeSWITCH; here the last value wins): connectivity checks are answered only from
// addresses one of the lists allows. Unset, every source is answered: the check's
// MESSAGE-INTEGRITY already proves it is the browser that got our SDP.
func (p *Profile) candidateACL() func(netip.Addr) bool {
	lists := splitComma(p.cfg.Params["apply-candidate-acl"])
	if len(lists) == 0 {
		return nil
	}
	set := p.ep.ACL()
	return func(a netip.Addr) bool {
		for _, l := range lists {
			if set.CheckToken(l, a).Allowed {
				return true
			}
		}
		return false
	}
}
