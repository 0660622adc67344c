package rtp

import (
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

// sendLocked builds, encrypts and sends one packet. smu must be held.
func (p *RTPPort) sendLocked(pt uint8, marker bool, seq uint16, ts uint32, payload []byte) {
	r := p.remote.Load()
	if r == nil || !r.IsValid() || r.Addr().IsUnspecified() {
		return
	}
	h := &p.txHdr
	h.Version, h.Padding, h.Extension, h.Marker = 2, false, false, marker
	h.PayloadType, h.SequenceNumber, h.Timestamp, h.SSRC = pt, seq, ts, p.seq.ssrc
	h.CSRC = h.CSRC[:0]
	n, err := h.MarshalTo(p.txBuf)
	if err != nil || n+len(payload) > maxPacket {
		p.stDropped.Add(1)
		return
	}
	n += copy(p.txBuf[n:], payload)
	pkt := p.txBuf[:n]
	if p.enc != nil {
		if pkt, err = p.enc.EncryptRTP(p.txBuf, pkt, &p.txHdr); err != nil {
			p.stDropped.Add(1)
			return
		}
	}
	if err := p.writeTo(pkt, *r); err == nil {
		p.stPktOut.Add(1)
		p.stBytesOut.Add(uint64(len(pkt)))
		if pt == cnPT {
			p.stCNOut.Add(1)
		} else {
			p.stMediaBytesOut.Add(uint64(len(payload)))
		}
	}
}

// tick runs once per ptime on the shared clock: decode one frame for the Stream, then send
// whatever is due (DTMF events, in-band digits, or the application's frame).
func (p *RTPPort) tick(now time.Time) {
	if p.closed.Load() {
		return
	}
	p.tickLocked(now)
	// Digits found in the audio are reported after smu is released: the callback may well send
	// DTMF or audio on this or the bridged port.
	p.smu.Lock()
	digits := append(p.dtmfOut[:0:0], p.dtmfOut...)
	p.dtmfOut = p.dtmfOut[:0]
	p.smu.Unlock()
	for _, d := range digits {
		p.emitDTMF(d)
	}
}

func (p *RTPPort) tickLocked(deadline time.Time) {
	p.mu.Lock()
	ci, te, dir, cnpt := p.codec, p.tePT, p.dir, p.cnTxPT
	p.mu.Unlock()
	p.smu.Lock()
	defer p.smu.Unlock()
	if p.encoder == nil || p.codecImp.Name != ci.Name || p.codecImp.ClockRate != ci.ClockRate {
		if !p.setupCodecLocked(ci) {
			return
		}
	}
	spf := uint32(ci.RTPSamplesPerFrame())
	// A late clock skips deadlines rather than bursting; the RTP timeline must still follow wall
	// time, so the skipped frames become a timestamp gap (with the marker bit on the next packet).
	frames := p.elapsedFramesLocked(deadline, ci.Interval())
	if frames > 1 {
		p.seq.skip((frames - 1) * spf)
		p.rtpTSNow += (frames - 1) * spf
	}
	st := p.stream.Load()
	if st != nil {
		p.receiveFrameLocked(st, ci)
		if p.txTapJB != nil && p.peer.Load() != nil && st.HasTaps() {
			p.tapRelayedLocked(st, ci)
		}
	}
	sent := false
	switch {
	case te != 0 && p.dtmfTx.busy():
		ev, send, start := p.dtmfTx.step(frames*spf, ci.ClockRate) // the digit's duration is wall time
		if send && dir.CanSend() {
			var b [4]byte
			ev.Marshal(b[:])
			seq, ts, m := p.seq.nextEvent(start, spf)
			p.sendLocked(te, m, seq, ts, b[:])
			sent = true
		}
	case p.inbandTx != nil:
		n, err := media.ReadFull(p.inbandTx, p.encPCM[:ci.SamplesPerFrame()])
		if err != nil || n == 0 {
			p.inbandTx = nil
			break
		}
		clear(p.encPCM[n:ci.SamplesPerFrame()])
		sent = p.encodeSendLocked(p.encPCM[:ci.SamplesPerFrame()], ci, spf, dir)
	}
	if st != nil {
		pcm, fl, ok := st.Take(p.encPCM[:0])
		p.encPCM = pcm[:cap(pcm)]
		local := !sent && p.peer.Load() == nil
		switch {
		case local && !ok && p.idleDiv.Load() != 0:
			p.sendIdleLocked(p.idleDiv.Load(), ci, spf, dir)
		case local && cnpt != 0 && (!ok || isSilence(pcm, fl)) && p.sendCNLocked(cnpt, pcm, ok, frames, spf, dir):
		case ok && local:
			if st.Rate() != ci.PCMRate() {
				pcm = p.resampleLocked(&p.encRS, pcm, st.Rate(), ci.PCMRate())
			}
			p.cnTx.on = false
			p.encodeSendLocked(pcm, ci, spf, dir)
		}
	}
	if sent {
		p.cnTx.on = false // digits interrupted the silence: the next silent tick starts anew
	}
	p.seq.tick(spf)
}

// elapsedFramesLocked reports how many frames of ptime passed since the previous tick (1 unless
// the clock skipped deadlines). The first tick, or the first after a ptime change, counts one.
func (p *RTPPort) elapsedFramesLocked(deadline time.Time, ptime time.Duration) uint32 {
	last, lastPtime := p.lastTick, p.lastTickPtime
	p.lastTick, p.lastTickPtime = deadline, ptime
	if last.IsZero() || lastPtime != ptime {
		return 1
	}
	d := deadline.Sub(last)
	if d < ptime+ptime/2 {
		return 1
	}
	return uint32((d + ptime/2) / ptime) // rounded: a clock may pass wall times, not deadlines
}

func (p *RTPPort) setupCodecLocked(ci media.CodecInfo) bool {
	impl, err := media.CodecFor(ci)
	if err != nil {
		return false
	}
	p.encoder, p.decoder, p.codecImp = impl.NewEncoder(), impl.NewDecoder(), ci
	n := max(ci.SamplesPerFrame(), 48*120)
	p.encPCM = make([]int16, n)
	p.decPCM = make([]int16, n)
	p.rsPCM = make([]int16, n)
	p.payBuf = make([]byte, maxPacket)
	p.encRS, p.decRS = nil, nil
	return true
}

func (p *RTPPort) resampleLocked(rs **media.Resampler, pcm []int16, from, to int) []int16 {
	if *rs == nil || (*rs).In() != from || (*rs).Out() != to {
		*rs = media.NewResampler(from, to)
	}
	n := (*rs).Process(p.rsPCM, pcm)
	return p.rsPCM[:n]
}

func (p *RTPPort) encodeSendLocked(pcm []int16, ci media.CodecInfo, spf uint32, dir media.Direction) bool {
	if !dir.CanSend() {
		return false
	}
	n, err := p.encoder.Encode(p.payBuf, pcm)
	if err != nil {
		return false
	}
	seq, ts, m := p.seq.nextLocal(spf)
	p.sendLocked(ci.PT, m, seq, ts, p.payBuf[:n])
	return true
}

// cnRefresh is how often (in frames) a silent leg repeats its comfort noise SID: FreeSWITCH's
// auto-CNG sends one after 60 intervals without audio.
const cnRefresh = 60

// cnDefaultLevel is the noise level (-dBov) announced when the silence has no measurable level
// (nothing written, or digital zero): FreeSWITCH's auto-CNG level.
const cnDefaultLevel = 65

// cnSender is the RFC 3389 send state of a terminated leg that negotiated CN (smu).
type cnSender struct {
	on   bool   // in a silence period: a SID has been sent
	left uint32 // frames until the next refresh
}

// sendCNLocked runs on a tick with nothing but silence to send: one SID at the start of the
// silence, then one every cnRefresh frames, instead of silence frames (or nothing). It reports
// false when CN cannot stand in, and a silence frame should go out as audio.
func (p *RTPPort) sendCNLocked(pt uint8, pcm []int16, haveFrame bool, frames, spf uint32, dir media.Direction) bool {
	if !dir.CanSend() || !p.seq.sent {
		return false // like FreeSWITCH, CN only continues a stream that has started
	}
	if p.cnTx.on && p.cnTx.left > frames {
		p.cnTx.left -= frames
		return true
	}
	level := uint8(cnDefaultLevel)
	if haveFrame {
		if l, ok := audio.CNLevel(pcm); ok {
			level = l
		}
	}
	seq, ts, m := p.seq.nextCN(spf)
	sid := [1]byte{level} // RFC 3389 SID with the level only: no spectral information
	p.sendLocked(pt, m, seq, ts, sid[:])
	p.cnTx.on, p.cnTx.left = true, cnRefresh
	return true
}

// isSilence reports whether an outgoing frame is silence: marked so (comfort noise heard from a
// bridged leg, silence fill) or digital zero.
func isSilence(pcm []int16, fl media.FrameFlags) bool {
	if fl&media.FrameSilence != 0 {
		return true
	}
	for _, s := range pcm {
		if s != 0 {
			return false
		}
	}
	return true
}

// receiveFrameLocked pops the jitter buffer and delivers one decoded (or concealed, or comfort
// noise) frame to the stream.
func (p *RTPPort) receiveFrameLocked(st *media.TermStream, ci media.CodecInfo) {
	spf := ci.SamplesPerFrame()
	pay, status := p.jb.Load().Pop(p.payBuf[:0])
	pcm := p.decPCM[:spf]
	var fl media.FrameFlags
	switch status {
	case JitterOK:
		n, err := p.decoder.Decode(p.decPCM, pay)
		if err != nil || n == 0 {
			pcm = pcm[:p.decoder.Conceal(pcm)]
			fl = media.FrameConcealed
		} else {
			pcm = p.decPCM[:n]
		}
	case JitterLost:
		pcm = pcm[:p.decoder.Conceal(pcm)]
		fl = media.FrameConcealed
	default:
		if p.inCN.Load() {
			if p.cn == nil {
				p.cn = audio.NewComfortNoise(70)
			}
			p.cn.SetLevel(uint8(p.cnLevel.Load()))
			p.cn.Fill(pcm)
			fl = media.FrameCNG | media.FrameSilence
		} else {
			clear(pcm)
			fl = media.FrameSilence
		}
	}
	if st.Rate() != ci.PCMRate() {
		pcm = p.resampleLocked(&p.decRS, pcm, ci.PCMRate(), st.Rate())
	}
	if p.inband.Load() {
		if p.detector == nil {
			p.detector = audio.NewInbandDetector(st.Rate(), func(d media.DTMF) { p.dtmfOut = append(p.dtmfOut, d) })
		}
		p.detector.Process(pcm)
	}
	p.rtpTSNow += uint32(ci.RTPSamplesPerFrame())
	st.Deliver(pcm, p.rtpTSNow, fl)
}

// SendDTMF sends a digit as the port negotiated: RFC 4733 events when a telephone-event PT was
// agreed, otherwise in-band tones; SIP INFO in DTMFInfo mode. A zero Duration uses the configured
// default (FreeSWITCH's 2000 samples).
func (p *RTPPort) SendDTMF(d media.DTMF) error {
	if p.closed.Load() {
		return media.ErrClosed
	}
	if _, ok := DigitEvent(d.Digit); !ok {
		return ErrBadEvent
	}
	if d.Duration <= 0 {
		d.Duration = p.cfg.DTMFDuration
	}
	d.Duration = min(max(d.Duration, 50*time.Millisecond), 8*time.Second)
	p.mu.Lock()
	mode, te, info := p.dtmfMode, p.tePT, p.infoSender
	p.mu.Unlock()
	switch {
	case mode == media.DTMFNone:
		return nil
	case mode == media.DTMFInfo && info != nil && !p.genInband.Load():
		return info(d)
	}
	p.smu.Lock()
	if te != 0 && mode == media.DTMFRFC2833 && !p.genInband.Load() {
		p.dtmfTx.queue = append(p.dtmfTx.queue, d)
	} else {
		g, err := audio.NewDTMFTone(string(d.Digit), d.Duration, 50*time.Millisecond, p.codec.PCMRate())
		if err != nil {
			p.smu.Unlock()
			return err
		}
		if p.inbandTx != nil { // append to the digits already playing
			p.inbandTx.Append(g)
		} else {
			p.inbandTx = g
		}
	}
	p.smu.Unlock()
	p.mu.Lock()
	p.ensureTickLocked()
	p.mu.Unlock()
	return nil
}
