package rtp

import "github.com/goswitch/goswitch/core/media"

// How the port sends and hands up digits: the DTMF mode, the SIP INFO sender, in-band detection
// and the channel's gate. The RFC 4733 wire format is in dtmf4733.go.

// SetDTMFMode selects how SendDTMF sends digits.
func (p *RTPPort) SetDTMFMode(m media.DTMFMode) {
	p.mu.Lock()
	p.dtmfMode = m
	p.mu.Unlock()
}

// SetInfoSender installs the SIP INFO (application/dtmf-relay) sender used in DTMFInfo mode.
func (p *RTPPort) SetInfoSender(fn func(media.DTMF) error) {
	p.mu.Lock()
	p.infoSender = fn
	p.mu.Unlock()
}

// OnDTMF sets the receiver of digits (RFC 4733 or in-band); it runs on the port's goroutines.
func (p *RTPPort) OnDTMF(fn func(media.DTMF)) {
	var deliver func(media.DTMF) bool
	if fn != nil {
		deliver = func(d media.DTMF) bool { fn(d); return false }
	}
	p.mu.Lock()
	p.dtmfDeliver = deliver
	p.mu.Unlock()
}

// SetInbandDTMF turns in-band DTMF detection on the decoded audio on or off (start_dtmf /
// stop_dtmf). It takes effect when media is terminated (Stream in use).
func (p *RTPPort) SetInbandDTMF(on bool) { p.inband.Store(on) }

// ReceiveDTMF hands a digit that arrived outside RTP (SIP INFO) to the same path as RTP
// digits: OnDTMF and, when bridged, the other leg.
func (p *RTPPort) ReceiveDTMF(d media.DTMF) {
	if d.Source == "" {
		d.Source = "ENDPOINT"
	}
	p.emitDTMF(d)
}

func (p *RTPPort) emitDTMF(d media.DTMF) {
	p.stDTMF.Add(1)
	p.mu.Lock()
	peer := p.dtmfPeer
	p.mu.Unlock()
	if peer == nil {
		// Relayed to a leg that takes RFC 4733 as packets: the digits that get here did not come
		// as relayed packets (SIP INFO, in-band, or held back for a hooked channel), so the
		// bridged leg gets them re-sent.
		if l := p.peer.Load(); l != nil && l.to != p { // not an echo (echo.go)
			peer = l.to
		}
	}
	if !p.deliverDTMF(d) && peer != nil {
		_ = peer.SendDTMF(d)
	}
}

// deliverDTMF hands a digit to the channel (OnDTMF or the gate's deliver) and reports
// whether the channel kept it.
func (p *RTPPort) deliverDTMF(d media.DTMF) (kept bool) {
	p.mu.Lock()
	deliver := p.dtmfDeliver
	p.mu.Unlock()
	if deliver != nil {
		p.callback(func() { kept = deliver(d) })
	}
	return kept
}

// SetDTMFGate gives the channel above the port the first look at received digits, as
// FreeSWITCH's DTMF hooks (bind_meta_app) have. deliver is the digit receiver (it replaces
// OnDTMF's) and reports whether the channel kept the digit, which then does not cross a bridge;
// hooked reports whether such a hook is installed. While hooked, RFC 4733 digits are not relayed
// packet by packet but re-sent on the bridged leg once they end (as FreeSWITCH always does).
func (p *RTPPort) SetDTMFGate(hooked func() bool, deliver func(media.DTMF) (kept bool)) {
	p.mu.Lock()
	p.dtmfHook, p.dtmfDeliver = hooked, deliver
	p.mu.Unlock()
}

func (p *RTPPort) dtmfHooked() bool {
	p.mu.Lock()
	h := p.dtmfHook
	p.mu.Unlock()
	return h != nil && h()
}
