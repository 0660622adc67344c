package sip

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/rtp"
)

// overloadResponse is the answer to an INVITE the switch cannot take: FreeSWITCH's "503 Maximum
// Calls In Progress" (sofia.c), with a Retry-After of a few seconds instead of its 300 so that
// a caller or proxy retries or fails over soon, and the Q.850 cause goswitch gives outbound
// legs refused for the same reason (SWITCH_CONGESTION, 42).
func overloadResponse(req *sip.Request, ae *core.AdmissionError) *sip.Response {
	r := sip.NewResponseFromRequest(req, 503, "Maximum Calls In Progress", nil)
	r.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(ae.RetryAfter)))
	r.AppendHeader(reasonHeader(core.CauseSwitchCongestion))
	return r
}

// admissionRefusal returns the refusal in err, turning an exhausted RTP range into one (counted
// and logged by the host like the others).
func (p *Profile) admissionRefusal(err error) (*core.AdmissionError, bool) {
	if ae, ok := core.IsAdmissionError(err); ok {
		return ae, true
	}
	if errors.Is(err, rtp.ErrNoPorts) {
		return p.ep.h.Refuse(core.RefuseRTPPorts), true
	}
	return nil, false
}

// portQuarantine is how long a released RTP pair stays out of use: the profile's
// rtp-port-quarantine-ms, else switch.conf's, else rtp.DefaultQuarantine.
func (p *Profile) portQuarantine() time.Duration {
	v, ok := p.cfg.Params["rtp-port-quarantine-ms"]
	if !ok {
		if sw := p.ep.h.Config().Configuration("switch.conf"); sw != nil {
			for _, el := range sw.FindElements("settings/param") {
				if el.SelectAttrValue("name", "") == "rtp-port-quarantine-ms" {
					v, ok = el.SelectAttrValue("value", ""), true
				}
			}
		}
	}
	if n, err := strconv.Atoi(v); ok && err == nil && n >= 0 {
		return time.Duration(n) * time.Millisecond
	}
	return rtp.DefaultQuarantine
}

// refuseInvite answers 503 with Retry-After when err is a refusal for want of capacity (sessions,
// rate, overload, RTP ports), counts it on the profile and reports whether it did.
func (p *Profile) refuseInvite(err error, respond func(*sip.Response) error, req *sip.Request) bool {
	ae, ok := p.admissionRefusal(err)
	if !ok {
		return false
	}
	p.failedIn.Add(1)
	p.refused.Add(1)
	_ = respond(overloadResponse(req, ae))
	return true
}

// portStatus is the RTP-PORTS row of sofia status profile: pairs in use out of the range, the
// quarantine, and how often the range was found exhausted.
func (p *Profile) portStatus() string {
	if p.alloc == nil {
		return "any (no rtp-start-port/rtp-end-port)"
	}
	return strconv.Itoa(p.alloc.InUse()) + "/" + strconv.Itoa(p.alloc.Pairs()) + " pairs in use, quarantine " +
		p.alloc.Quarantine.String() + ", exhausted " + strconv.FormatUint(p.alloc.Exhausted(), 10)
}

// udpReadBuffer is SO_RCVBUF for a profile's SIP socket. The kernel default (~208 KB) overflows
// in a burst of a few hundred calls a second: the ACKs and BYEs it drops leave calls that the
// caller has given up on, and 2xx and 407 retransmissions that confuse it further. The kernel
// caps the value at net.core.rmem_max.
const udpReadBuffer = 4 << 20

func setUDPReadBuffer(c net.PacketConn) {
	if u, ok := c.(*net.UDPConn); ok {
		_ = u.SetReadBuffer(udpReadBuffer)
	}
}
