package sip

import (
	"errors"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/core/sdp"
)

// Glue between a SIP dialog and core/sdp, which does all offer/answer: this file only picks the
// inputs (profile settings and channel variables), applies results to the RTP port and keeps
// the dialog's SDP state.

// sdpPrefs are the negotiation inputs FreeSWITCH takes from the profile and the channel.
type sdpPrefs struct {
	codecs []sdp.CodecPref
	secure sdp.SecurePolicy
	key    string // identifies the inputs, to notice a dialplan change before we answer
	udp    bool   // offer over UDP: keep it small (see compactForUDP)
	cng    uint8  // RFC 3389 PT to offer and accept; 0 = suppress_cng
}

// negotiationPrefs resolves the codec list (absolute_codec_string, else codec_string, else the
// profile's inbound/outbound-codec-prefs) and the SRTP policy (rtp_secure_media_inbound or
// _outbound, else rtp_secure_media). Unset, an answer accepts SDES-SRTP (FreeSWITCH's default
// crypto mode is optional: phones offering RTP/SAVP just work) while an offer is plain RTP.
func negotiationPrefs(pc *ProfileConfig, inbound, answering bool, get func(string) string) sdpPrefs {
	codecs, secVar := pc.OutboundCodecs, "rtp_secure_media_outbound"
	if inbound {
		codecs, secVar = pc.InboundCodecs, "rtp_secure_media_inbound"
	}
	if len(codecs) == 0 {
		codecs = registeredCodecs()
	}
	codecs = legCodecs(codecs, inbound, answering, get) // codecorder.go
	sec := get(secVar)
	if sec == "" {
		sec = get("rtp_secure_media")
	}
	pol := sdp.ParseSecureMedia(sec)
	if strings.TrimSpace(sec) == "" && answering {
		pol.Mode = sdp.SecureOptional
	}
	// CN is offered and answered with the profile's cng-pt unless suppress-cng or the channel's
	// (or global) suppress_cng says not to, as FreeSWITCH does (it also reads the "supress" typo).
	cng := pc.CNGPT
	if core.True(get("suppress_cng")) || core.True(get("supress_cng")) {
		cng = 0
	}
	return sdpPrefs{codecs: codecs, secure: pol, key: sdp.FormatCodecString(codecs) + "|" + sec, cng: cng}
}

// udpSuite is offered over UDP when rtp_secure_media names no suites, and an optional offer
// puts a=crypto in its RTP/AVP line instead of FreeSWITCH's dual SAVP+AVP offer: the full
// seven-suite list (~550 bytes, twice that dual) pushes the INVITE, once it carries
// Proxy-Authorization, past the 1300 bytes sipgo sends on UDP (RFC 3261 §18.1.1; it has no TCP
// fallback). Every SDES phone does this suite; TCP and TLS legs offer FreeSWITCH's full form.
const udpSuite = "AES_CM_128_HMAC_SHA1_80"

func compactForUDP(pr sdpPrefs) sdpPrefs {
	pr.udp = true
	if pr.secure.Mode != sdp.SecureForbidden && len(pr.secure.Suites) == 0 {
		if s, ok := rtp.LookupSRTPSuite(udpSuite); ok {
			pr.secure.Suites = []rtp.SRTPSuite{s}
		}
	}
	return pr
}

// registeredCodecs stands in for an empty codec-prefs: FreeSWITCH then uses every loaded codec.
func registeredCodecs() []sdp.CodecPref {
	var out []sdp.CodecPref
	for _, ci := range media.Codecs() {
		if !strings.EqualFold(ci.Name, "telephone-event") {
			out = append(out, sdp.CodecPref{Name: strings.ToUpper(ci.Name), Rate: ci.ClockRate, Channels: ci.Channels})
		}
	}
	return out
}

// prefs reads the negotiation inputs from the leg's channel variables.
func (c *call) prefs(answering bool) sdpPrefs {
	get := func(string) string { return "" }
	if c.s != nil {
		get = c.s.Var
	}
	return negotiationPrefs(&c.p.cfg, c.in != nil, answering, get)
}

// sdpConfigLocked is our side of the next description; every call bumps the o= version
// (RFC 3264 §8). Caller holds c.mu.
func (c *call) sdpConfigLocked(port *rtp.RTPPort, pr sdpPrefs) sdp.Config {
	if c.sdpSessID == 0 {
		c.sdpSessID = newSessID()
		c.sdpVersion = c.sdpSessID
	}
	c.sdpVersion++
	// No a=rtcp: our RTCP is always on port+1, the RFC 3605 default, and UDP INVITEs are short
	// of bytes (see udpSuites).
	cfg := sdp.Config{IP: c.p.extRTPIP, Port: int(port.LocalAddr().Port()), SessionID: c.sdpSessID, Version: c.sdpVersion,
		Codecs: pr.codecs, Greedy: !c.p.cfg.Generous, Secure: pr.secure, Direction: c.holdDir}
	cfg.CryptoInAVP = pr.udp
	cfg.ComfortNoisePT = pr.cng
	if c.p.cfg.DTMFType != "info" && c.p.cfg.DTMFType != "none" {
		cfg.TelephoneEventPT = c.p.cfg.RFC2833PT
	}
	if c.res != nil && c.res.Secure {
		k := c.res.LocalKey
		cfg.LocalKey = &k
	}
	cfg.WebRTC = c.webrtcLocalLocked()
	return cfg
}

// answerOffer answers a remote offer (INVITE, re-INVITE, UPDATE), binding the RTP port on
// first use. It returns the SIP status to refuse with; on failure nothing changes.
func (c *call) answerOffer(offer []byte) (int, error) {
	pr := c.prefs(true)
	port, fresh := c.port, c.port == nil
	if fresh {
		var err error
		if port, err = c.newPort(); err != nil {
			return 503, err
		}
	}
	if sdp.IsWebRTCOffer(offer) {
		if err := c.ensureWebRTC(port); err != nil {
			if fresh {
				port.Close()
			}
			return 503, err
		}
	}
	c.mu.Lock()
	cfg := c.sdpConfigLocked(port, pr)
	c.mu.Unlock()
	body, res, err := sdp.Answer(offer, cfg)
	if err == nil {
		err = applyResult(port, res)
	}
	if err == nil {
		err = c.startWebRTC(port, res)
	}
	if err != nil {
		if fresh {
			port.Close()
		}
		return 488, err
	}
	c.mu.Lock()
	if c.port == nil { // set once, before the session starts; re-INVITEs reuse it
		c.port = port
	}
	c.res, c.localSDP, c.remoteOffer, c.offer, c.negKey = res, body, offer, nil, pr.key
	c.mu.Unlock()
	c.setMediaVars(res)
	c.setEPCodecs(offer, cfg)
	return 0, nil
}

// buildOffer makes our offer (outbound INVITE, or the 200 of an INVITE without SDP).
func (c *call) buildOffer(pr sdpPrefs) ([]byte, error) {
	port, fresh := c.port, c.port == nil
	if fresh {
		var err error
		if port, err = c.newPort(); err != nil {
			return nil, err
		}
	}
	if c.wantRTC {
		if err := c.ensureWebRTC(port); err != nil {
			if fresh {
				port.Close()
			}
			return nil, err
		}
	}
	c.mu.Lock()
	cfg := c.sdpConfigLocked(port, pr)
	c.mu.Unlock()
	o, err := sdp.BuildOffer(cfg)
	if err != nil {
		if fresh {
			port.Close()
		}
		return nil, err
	}
	c.mu.Lock()
	if c.port == nil {
		c.port = port
	}
	c.offer, c.localSDP, c.negKey = o, o.SDP, pr.key
	c.mu.Unlock()
	return o.SDP, nil
}

// acceptAnswer applies the far end's answer (183, 200, or the ACK of a late offer) to our offer.
func (c *call) acceptAnswer(body []byte) error {
	c.mu.Lock()
	o := c.offer
	c.mu.Unlock()
	if o == nil {
		return errors.New("sip: SDP answer without an offer")
	}
	res, err := o.ParseAnswer(body)
	if err != nil {
		return err
	}
	if err := applyResult(c.port, res); err != nil {
		return err
	}
	if err := c.startWebRTC(c.port, res); err != nil {
		return err
	}
	c.mu.Lock()
	c.res = res
	c.mu.Unlock()
	c.setMediaVars(res)
	return nil
}

// reoffer builds the SDP of a re-INVITE/UPDATE we send (hold, unhold, refresh) in direction dir.
func (c *call) reoffer(dir media.Direction) (*sdp.Offer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holdDir = dir
	if c.res == nil || c.port == nil {
		return nil, errors.New("sip: no negotiated media to re-offer")
	}
	o, err := sdp.Reoffer(c.sdpConfigLocked(c.port, sdpPrefs{}), c.res)
	if err != nil {
		return nil, err
	}
	c.localSDP = o.SDP
	return o, nil
}

// renegotiate redoes an inbound answer (or late offer) when the dialplan changed
// absolute_codec_string, codec_string or rtp_secure_media after the INVITE arrived, as
// FreeSWITCH's inbound-late-negotiation does. Once our SDP went out in a 183 or 200 it stays.
// Called on the session goroutine (Progress, Answer), which sends every response to the INVITE.
func (c *call) renegotiate() error {
	c.mu.Lock()
	done, key, offer, late := c.sdpSent || c.port == nil, c.negKey, c.remoteOffer, c.lateOffer && c.res == nil
	c.mu.Unlock()
	if done {
		return nil
	}
	pr := c.prefs(offer != nil)
	if pr.key == key {
		return nil
	}
	switch {
	case offer != nil:
		_, err := c.answerOffer(offer)
		return err
	case late:
		_, err := c.buildOffer(pr)
		return err
	}
	return nil
}

// applyResult points the port at a negotiation result.
func applyResult(port *rtp.RTPPort, r *sdp.Result) error {
	if err := port.SetCodec(r.Codec, r.TelephoneEventPT); err != nil {
		return err
	}
	var lk, rk *rtp.SRTPKey
	if r.Secure {
		lk, rk = &r.LocalKey, &r.RemoteKey
	}
	// A WebRTC leg's keys come from its DTLS handshake (webrtc.go), not from the SDP.
	if r.WebRTC == nil {
		if err := port.SetSRTP(lk, rk); err != nil {
			return err
		}
	}
	port.SetRemote(r.Remote, r.RemoteRTCP)
	port.SetDirection(r.Direction)
	port.SetComfortNoise(r.ComfortNoisePT) // idle legs then send RFC 3389 SIDs (FreeSWITCH auto-CNG)
	return nil
}

// setMediaVars publishes the result as FreeSWITCH's channel variables.
func (c *call) setMediaVars(r *sdp.Result) {
	s := c.s
	if s == nil {
		return
	}
	for k, v := range r.Vars() {
		s.SetVar(k, v)
	}
	s.SetVar("local_media_ip", c.p.rtpIP.String())
	s.SetVar("local_media_port", strconv.Itoa(int(c.port.LocalAddr().Port())))
	if r.Secure {
		s.SetVar("sip_secure_media_confirmed", "true")
	}
}
