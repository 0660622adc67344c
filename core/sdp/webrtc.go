package sdp

import (
	"fmt"
	"net/netip"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// WebRTCProto is the transport of a WebRTC audio line (RFC 8843 bundle, RFC 5764 DTLS-SRTP,
// RFC 4585 feedback profile).
const WebRTCProto = "UDP/TLS/RTP/SAVPF"

// WebRTCLocal is our side of a WebRTC line: the ICE-lite agent's credentials, the DTLS
// certificate fingerprint and role, and the host candidate (our RTP port).
type WebRTCLocal struct {
	Ufrag, Pwd  string
	Fingerprint string // "sha-256 AB:CD:..."
	// Setup is our a=setup. Empty: actpass in an offer, and in an answer passive (or active
	// when the offer said passive), as FreeSWITCH answers.
	Setup string
	// Candidates are extra host candidates; the SDP's c= address and port is always the first.
	Candidates []netip.AddrPort
}

// WebRTCRemote is the far end's side of a WebRTC line, and the role we took.
type WebRTCRemote struct {
	Ufrag, Pwd  string
	Fingerprint string // "sha-256 AB:CD:..."
	Setup       string // the far end's a=setup
	LocalSetup  string // ours, as sent: "active" makes us the DTLS client
	Mid         string
	RTCPMux     bool
}

// DTLSClient reports whether we are the DTLS client of the line.
func (w *WebRTCRemote) DTLSClient() bool { return strings.EqualFold(w.LocalSetup, "active") }

// isDTLS reports whether a proto is DTLS-SRTP (UDP/TLS/RTP/SAVP[F], RFC 5764 §8).
func isDTLS(proto string) bool { return strings.Contains(strings.ToUpper(proto), "TLS/RTP/SAVP") }

func (m *mline) dtls() bool { return isDTLS(m.proto) }

// IsWebRTCOffer reports whether an SDP offers DTLS-SRTP audio (a browser's offer).
func IsWebRTCOffer(body []byte) bool {
	_, ms, err := parse(body)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.media == "audio" && m.port != 0 && m.dtls() {
			return true
		}
	}
	return false
}

// answerSetup is our a=setup for an offer's (RFC 5763 §5).
func answerSetup(offered string) string {
	if strings.EqualFold(offered, "passive") {
		return "active"
	}
	return "passive"
}

// remoteWebRTC reads the ICE/DTLS attributes of m-line idx, falling back to session level.
func remoteWebRTC(sd *psdp.SessionDescription, idx int) *WebRTCRemote {
	w := &WebRTCRemote{}
	set := func(k, v string) {
		v = strings.TrimSpace(v)
		switch k {
		case "ice-ufrag":
			w.Ufrag = v
		case "ice-pwd":
			w.Pwd = v
		case "fingerprint":
			w.Fingerprint = v
		case "setup":
			w.Setup = strings.ToLower(v)
		case "mid":
			w.Mid = v
		case "rtcp-mux":
			w.RTCPMux = true
		}
	}
	for _, a := range sd.Attributes {
		set(a.Key, a.Value)
	}
	if idx >= 0 && idx < len(sd.MediaDescriptions) {
		for _, a := range sd.MediaDescriptions[idx].Attributes {
			set(a.Key, a.Value)
		}
	}
	return w
}

// applyWebRTC fills r for an accepted DTLS line: rtcp-mux puts RTCP on the RTP address, and a
// c=0.0.0.0 (browsers before gathering, RFC 8840) is where ICE, not the SDP, says.
func applyWebRTC(r *Result, sd *psdp.SessionDescription, m *mline, localSetup string) {
	w := remoteWebRTC(sd, m.index)
	w.LocalSetup = localSetup
	r.WebRTC = w
	if w.RTCPMux {
		r.RemoteRTCP = r.Remote
	}
}

// addWebRTCSession adds the session-level lines of a WebRTC SDP: we are ICE-lite, and the one
// audio line is its own BUNDLE group (RFC 8843), which browsers require to use one socket.
func addWebRTCSession(sd *psdp.SessionDescription, mid string) {
	sd.Attributes = append(sd.Attributes, psdp.NewPropertyAttribute("ice-lite"))
	if mid != "" {
		sd.Attributes = append(sd.Attributes, psdp.NewAttribute("group", "BUNDLE "+mid))
	}
	sd.Attributes = append(sd.Attributes, psdp.NewAttribute("msid-semantic", " WMS"))
}

// addWebRTCMedia adds the ICE/DTLS lines of our audio line.
func (c *Config) addWebRTCMedia(md *psdp.MediaDescription, setup, mid string) {
	w := c.WebRTC
	a := func(k, v string) { md.Attributes = append(md.Attributes, psdp.NewAttribute(k, v)) }
	if mid != "" {
		a("mid", mid)
	}
	a("ice-ufrag", w.Ufrag)
	a("ice-pwd", w.Pwd)
	a("fingerprint", w.Fingerprint)
	a("setup", setup)
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute("rtcp-mux"))
	cands := append([]netip.AddrPort{netip.AddrPortFrom(c.IP, uint16(c.Port))}, w.Candidates...)
	seen := map[netip.AddrPort]bool{}
	for i, h := range cands {
		if seen[h] || !h.IsValid() || h.Addr().IsUnspecified() {
			continue
		}
		seen[h] = true
		// RFC 8445 §5.1.2.1 priority of a host candidate, component 1, local preference
		// decreasing with the list.
		prio := (126 << 24) | ((65535 - i) << 8) | 255
		a("candidate", fmt.Sprintf("%d 1 udp %d %s %d typ host", i+1, prio, h.Addr().Unmap(), h.Port()))
	}
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute("end-of-candidates"))
}

// webrtcOfferLine turns our offer's audio line into a WebRTC one: one UDP/TLS/RTP/SAVPF line,
// actpass (the answerer picks the DTLS role), mid "0" bundled.
func (o *Offer) webrtcOffer(sd *psdp.SessionDescription) {
	md := o.mline(WebRTCProto, false)
	setup := o.cfg.WebRTC.Setup
	if setup == "" {
		setup = "actpass"
	}
	o.cfg.addWebRTCMedia(md, setup, "0")
	addWebRTCSession(sd, "0")
	sd.MediaDescriptions = append(sd.MediaDescriptions, md)
}

// localSetupFor is the role we end up with when our offer said ours and the answer says
// theirs: an actpass offer leaves the choice to the answerer (RFC 5763 §5).
func localSetupFor(ours, theirs string) string {
	if strings.EqualFold(ours, "active") || strings.EqualFold(ours, "passive") {
		return strings.ToLower(ours)
	}
	if strings.EqualFold(theirs, "active") {
		return "passive"
	}
	return "active"
}
