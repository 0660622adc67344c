package sdp

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	psdp "github.com/pion/sdp/v3"
)

// Answer builds our answer to a remote offer. The first audio line we can accept (codec in
// common, RTP/SAVP only with a suite we can key and a policy that allows it, RTP/AVP unless
// SRTP is mandatory) is answered; every other line is refused with port 0, as the seed trace
// shows for the AVP half of a dual offer.
func Answer(offer []byte, cfg Config) ([]byte, *Result, error) {
	cfg.defaults()
	sd0, ms, err := parse(offer)
	if err != nil {
		return nil, nil, err
	}
	var res *Result
	var resLine *mline
	var localCrypto *Crypto
	hasCrypto := ""
	for _, m := range ms {
		if len(m.cryptos) > 0 && hasCrypto == "" {
			hasCrypto = m.cryptos[0].Suite
		}
		if res != nil || m.media != "audio" || m.port == 0 {
			continue
		}
		if m.dtls() != (cfg.WebRTC != nil) {
			continue // DTLS-SRTP only with an ICE/DTLS agent, and a WebRTC leg only that
		}
		wantSRTP := !m.dtls() && (m.secure() || (len(m.cryptos) > 0 && cfg.Secure.Mode != SecureForbidden))
		if m.secure() && cfg.Secure.Mode == SecureForbidden && !m.dtls() {
			continue
		}
		if !wantSRTP && !m.dtls() && cfg.Secure.Mode == SecureMandatory { // DTLS-SRTP is SRTP
			continue
		}
		r, ok := cfg.pickCodec(m, true)
		if !ok {
			continue
		}
		if wantSRTP {
			lc, ok := cfg.pickCrypto(m, r)
			if !ok {
				if m.secure() {
					continue
				}
			} else {
				localCrypto = lc
			}
		}
		r.MediaIndex, r.Proto = m.index, m.proto
		fillRemote(r, m)
		if m.dtls() {
			setup := cfg.WebRTC.Setup
			if setup == "" {
				setup = answerSetup(remoteWebRTC(sd0, m.index).Setup)
			}
			applyWebRTC(r, sd0, m, setup)
		}
		if cfg.ComfortNoisePT != 0 {
			r.ComfortNoisePT = m.comfortNoise() // answered with the offerer's PT
		}
		r.Direction = cfg.Direction
		switch {
		case m.hold:
			r.Hold = true
			r.Direction = intersectDir(cfg.Direction, media.RecvOnly)
			if m.dir == media.Inactive || m.dir == media.RecvOnly {
				r.Direction = media.Inactive
			}
		case m.dir != media.SendRecv:
			r.Hold = m.dir == media.SendOnly || m.dir == media.Inactive
			r.Direction = intersectDir(cfg.Direction, m.dir.Reverse())
		}
		res, resLine = r, m
	}
	if res == nil {
		return nil, nil, fmt.Errorf("%w: %d m-lines, none acceptable", ErrNotAcceptable, len(ms))
	}
	res.RemoteHasCrypto = hasCrypto
	sd := newSession(&cfg)
	for _, m := range ms {
		if m != resLine {
			sd.MediaDescriptions = append(sd.MediaDescriptions, rejectLine(m))
			continue
		}
		md := cfg.answerLine(m, res, localCrypto)
		if res.WebRTC != nil {
			cfg.addWebRTCMedia(md, res.WebRTC.LocalSetup, res.WebRTC.Mid)
			addWebRTCSession(sd, res.WebRTC.Mid)
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, md)
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return b, res, nil
}

// intersectDir combines what we want with what the offer allows.
func intersectDir(ours, allowed media.Direction) media.Direction {
	send := ours.CanSend() && allowed.CanSend()
	recv := ours.CanRecv() && allowed.CanRecv()
	switch {
	case send && recv:
		return media.SendRecv
	case send:
		return media.SendOnly
	case recv:
		return media.RecvOnly
	}
	return media.Inactive
}

// pickCodec chooses the audio codec (and telephone-event) for an m-line. answering selects the
// generous/greedy order; when reading an answer the answerer's first acceptable format wins.
func (c *Config) pickCodec(m *mline, answering bool) (*Result, bool) {
	type cand struct {
		pt int
		r  rtpmap
	}
	var offered []cand
	for _, pt := range m.formats {
		if r, ok := m.codecAt(pt); ok && r.name != "TELEPHONE-EVENT" && r.name != "CN" {
			offered = append(offered, cand{pt, r})
		}
	}
	accept := func(x cand) (CodecPref, bool) {
		for _, p := range c.Codecs {
			if p.matches(x.r.name, x.r.clock) && c.Supported(x.r.name, x.r.clock, x.r.ch) {
				return p, true
			}
		}
		return CodecPref{}, false
	}
	var chosen *cand
	var pref CodecPref
	if answering && c.Greedy {
	outer:
		for _, p := range c.Codecs {
			for i := range offered {
				if p.matches(offered[i].r.name, offered[i].r.clock) && c.Supported(offered[i].r.name, offered[i].r.clock, offered[i].r.ch) {
					chosen, pref = &offered[i], p
					break outer
				}
			}
		}
	} else {
		for i := range offered {
			if p, ok := accept(offered[i]); ok {
				chosen, pref = &offered[i], p
				break
			}
		}
	}
	if chosen == nil {
		return nil, false
	}
	ci, _ := pref.resolve()
	ci.Name, ci.PT, ci.ClockRate, ci.Channels = chosen.r.name, uint8(chosen.pt), chosen.r.clock, chosen.r.ch
	if chosen.r.name == "G722" {
		ci.SampleRate = 16000
	} else if ci.SampleRate == 0 || chosen.r.name != "OPUS" {
		ci.SampleRate = chosen.r.clock
	}
	ci.Fmtp = m.fmtp[chosen.pt]
	ptime := m.ptime
	if ptime == 0 {
		ptime = ci.Ptime // the preference's @Ni
	}
	if ptime == 0 {
		ptime = c.Ptime
	}
	ci.Ptime = ptime
	r := &Result{Codec: ci, Ptime: ptime}
	if c.TelephoneEventPT != 0 {
		r.TelephoneEventPT = m.telephoneEvent(ci.ClockRate)
		if r.TelephoneEventPT == 0 && ci.ClockRate != 8000 {
			r.TelephoneEventPT = m.telephoneEvent(8000)
		}
	}
	return r, true
}

// pickCrypto answers with the first suite of the offer that our policy allows and pion can key
// (AES_192 and the 8-byte-tag GCM suites are skipped), keeping the offer's tag.
func (c *Config) pickCrypto(m *mline, r *Result) (*Crypto, bool) {
	for _, oc := range m.cryptos {
		if _, ok := c.Secure.rank(oc.Suite); !ok {
			continue
		}
		rk, err := oc.Key()
		if err != nil {
			continue
		}
		var lc Crypto
		var lk rtp.SRTPKey
		if k := c.LocalKey; k != nil && k.Suite.Name == rk.Suite.Name {
			lk = *k
			lk.MKI = nil
			lc = Crypto{Tag: oc.Tag, KeySalt: lk.KeySalt()}
		} else if lc, lk, err = newLocalCrypto(oc.Tag, rk.Suite); err != nil {
			continue
		}
		lc.Suite = oc.Suite // answer in the offerer's spelling
		lc.MKI, lc.MKILen = oc.MKI, oc.MKILen
		if oc.MKILen > 0 {
			lk.MKI = rk.MKI
		}
		r.Secure, r.Suite, r.Tag, r.LocalKey, r.RemoteKey = true, rk.Suite.Name, oc.Tag, lk, rk
		return &lc, true
	}
	return nil, false
}

func fillRemote(r *Result, m *mline) {
	r.Remote = m.remote()
	r.RemoteRTCP = m.rtcp
	if !r.RemoteRTCP.IsValid() && r.Remote.IsValid() {
		r.RemoteRTCP = netip.AddrPortFrom(r.Remote.Addr(), r.Remote.Port()+1)
	}
}

// rejectLine answers an m-line with port 0 and its first format (RFC 3264 §6).
func rejectLine(m *mline) *psdp.MediaDescription {
	f := m.rawFmts
	if len(f) > 1 {
		f = f[:1]
	}
	if len(f) == 0 {
		f = []string{"0"}
	}
	return &psdp.MediaDescription{MediaName: psdp.MediaName{Media: m.media, Port: psdp.RangedPort{Value: 0},
		Protos: splitProto(m.proto), Formats: f}}
}

// answerLine renders the accepted line in the seed answer's order: rtpmap, telephone-event,
// direction, crypto, ptime, rtcp.
func (c *Config) answerLine(m *mline, r *Result, lc *Crypto) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: c.Port},
		Protos: splitProto(m.proto), Formats: []string{strconv.Itoa(int(r.Codec.PT))}}}
	md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", rtpmapValue(r.Codec)))
	if r.Codec.Fmtp != "" {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", r.Codec.PT, r.Codec.Fmtp)))
	}
	if r.TelephoneEventPT != 0 {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(r.TelephoneEventPT)))
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", r.TelephoneEventPT)),
			psdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", r.TelephoneEventPT)))
	}
	addComfortNoise(md, r.ComfortNoisePT)
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(r.Direction.String()))
	if lc != nil {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("crypto", lc.String()))
	}
	md.Attributes = append(md.Attributes, psdp.NewAttribute("ptime", strconv.Itoa(int(r.Ptime.Milliseconds()))))
	if c.RTCP {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtcp", strconv.Itoa(c.Port+1)))
	}
	return md
}
