package sdp

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/rtp"
	psdp "github.com/pion/sdp/v3"
)

// ErrNotAcceptable means no m-line could be accepted (SIP 488 Not Acceptable Here).
var ErrNotAcceptable = errors.New("sdp: not acceptable")

// Offer is an SDP offer we sent, with the keys we need when the answer comes.
type Offer struct {
	SDP    []byte
	cfg    Config
	codecs []media.CodecInfo
	crypto []offeredKey
}

type offeredKey struct {
	c Crypto
	k rtp.SRTPKey
}

// BuildOffer makes an offer from our codec preferences. With SecureOptional it sends
// FreeSWITCH's dual offer: an RTP/SAVP line with every suite's a=crypto followed by an RTP/AVP
// line with the same port; SecureMandatory sends only the SAVP line.
func BuildOffer(cfg Config) (*Offer, error) {
	cfg.defaults()
	o := &Offer{cfg: cfg}
	nextDyn := 96
	used := map[int]bool{int(cfg.TelephoneEventPT): cfg.TelephoneEventPT != 0, int(cfg.ComfortNoisePT): cfg.ComfortNoisePT != 0}
	for _, p := range cfg.Codecs {
		ci, static := p.resolve()
		if !cfg.Supported(ci.Name, ci.ClockRate, ci.Channels) {
			continue
		}
		dup := false
		for _, x := range o.codecs {
			dup = dup || (x.Name == ci.Name && x.ClockRate == ci.ClockRate)
		}
		if dup {
			continue
		}
		if static >= 0 {
			ci.PT = uint8(static)
		} else {
			for used[nextDyn] {
				nextDyn++
			}
			ci.PT = uint8(nextDyn)
			used[nextDyn] = true
		}
		if ci.Ptime == 0 {
			ci.Ptime = cfg.Ptime
		}
		o.codecs = append(o.codecs, ci)
	}
	if len(o.codecs) == 0 {
		return nil, fmt.Errorf("%w: no offerable codec in %s", media.ErrNoCommonCodec, FormatCodecString(cfg.Codecs))
	}
	if cfg.Secure.Mode != SecureForbidden {
		for i, s := range cfg.Secure.suites() {
			c, k, err := newLocalCrypto(i+1, s)
			if err != nil {
				return nil, err
			}
			o.crypto = append(o.crypto, offeredKey{c, k})
		}
	}
	sd := o.session()
	switch {
	case cfg.WebRTC != nil:
		o.webrtcOffer(sd)
	default:
		o.plainOffer(sd)
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, err
	}
	o.SDP = b
	return o, nil
}

// plainOffer adds the RTP/AVP and RTP/SAVP lines the secure policy asks for.
func (o *Offer) plainOffer(sd *psdp.SessionDescription) {
	cfg := &o.cfg
	switch cfg.Secure.Mode {
	case SecureMandatory:
		sd.MediaDescriptions = append(sd.MediaDescriptions, o.mline("RTP/SAVP", true))
	case SecureOptional:
		if cfg.CryptoInAVP {
			sd.MediaDescriptions = append(sd.MediaDescriptions, o.mline("RTP/AVP", true))
			break
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, o.mline("RTP/SAVP", true), o.mline("RTP/AVP", false))
	default:
		sd.MediaDescriptions = append(sd.MediaDescriptions, o.mline("RTP/AVP", false))
	}
}

// Reoffer builds the offer of a re-INVITE or UPDATE on an established session (hold, unhold,
// session refresh) from the current Result: only the negotiated codec and telephone-event PT,
// the same transport, and the SRTP key in use under its tag, so the far end need neither
// switch codec nor re-key (RFC 3264 §8, RFC 4568 §7.1.4). cfg supplies the address, port, o=
// line (bump Version) and the Direction we want; its codec list and policy are ignored.
func Reoffer(cfg Config, cur *Result) (*Offer, error) {
	if cur == nil || cur.Codec.Name == "" {
		return nil, fmt.Errorf("%w: no negotiated media to re-offer", ErrNotAcceptable)
	}
	cfg.defaults()
	ci := cur.Codec
	cfg.Codecs = []CodecPref{{Name: ci.Name, Rate: ci.ClockRate, Channels: ci.Channels}}
	cfg.TelephoneEventPT = cur.TelephoneEventPT
	cfg.ComfortNoisePT = cur.ComfortNoisePT
	if cur.Ptime > 0 {
		cfg.Ptime = cur.Ptime
	}
	cfg.Secure = SecurePolicy{Mode: SecureForbidden}
	proto := cur.Proto
	if cur.Secure {
		// The answer must keep SRTP: a re-INVITE cannot silently downgrade the call.
		cfg.Secure = SecurePolicy{Mode: SecureMandatory, Suites: []rtp.SRTPSuite{cur.LocalKey.Suite}}
		if proto == "" {
			proto = "RTP/SAVP"
		}
	}
	if proto == "" {
		proto = "RTP/AVP"
	}
	if ci.Ptime == 0 {
		ci.Ptime = cfg.Ptime
	}
	o := &Offer{cfg: cfg, codecs: []media.CodecInfo{ci}}
	if cur.Secure {
		tag := max(cur.Tag, 1)
		c := Crypto{Tag: tag, Suite: cur.LocalKey.Suite.Name, KeySalt: cur.LocalKey.KeySalt()}
		if n := len(cur.LocalKey.MKI); n > 0 {
			c.MKI, c.MKILen = new(big.Int).SetBytes(cur.LocalKey.MKI).Uint64(), n
		}
		o.crypto = []offeredKey{{c, cur.LocalKey}}
	}
	sd := o.session()
	md := o.mline(proto, cur.Secure)
	if cur.WebRTC != nil && cfg.WebRTC != nil {
		// Keep the DTLS role and transport: a refresh or hold must not restart the handshake.
		cfg.addWebRTCMedia(md, cur.WebRTC.LocalSetup, cur.WebRTC.Mid)
		addWebRTCSession(sd, cur.WebRTC.Mid)
	}
	sd.MediaDescriptions = append(sd.MediaDescriptions, md)
	b, err := sd.Marshal()
	if err != nil {
		return nil, err
	}
	o.SDP = b
	return o, nil
}

func (o *Offer) session() *psdp.SessionDescription {
	return newSession(&o.cfg)
}

func newSession(cfg *Config) *psdp.SessionDescription {
	at := "IP4"
	if cfg.IP.Is6() && !cfg.IP.Is4In6() {
		at = "IP6"
	}
	return &psdp.SessionDescription{
		Origin: psdp.Origin{Username: cfg.Username, SessionID: cfg.SessionID, SessionVersion: cfg.Version,
			NetworkType: "IN", AddressType: at, UnicastAddress: cfg.IP.String()},
		SessionName:           psdp.SessionName(cfg.SessionName),
		ConnectionInformation: &psdp.ConnectionInformation{NetworkType: "IN", AddressType: at, Address: &psdp.Address{Address: cfg.IP.String()}},
		TimeDescriptions:      []psdp.TimeDescription{{Timing: psdp.Timing{}}},
	}
}

// mline renders our audio line in FreeSWITCH's attribute order.
func (o *Offer) mline(proto string, withCrypto bool) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{Media: "audio",
		Port: psdp.RangedPort{Value: o.cfg.Port}, Protos: splitProto(proto)}}
	for _, c := range o.codecs {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PT)))
	}
	if o.cfg.TelephoneEventPT != 0 {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(o.cfg.TelephoneEventPT)))
	}
	for _, c := range o.codecs {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", rtpmapValue(c)))
		if c.Fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", c.PT, c.Fmtp)))
		}
	}
	if o.cfg.TelephoneEventPT != 0 {
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", o.cfg.TelephoneEventPT)),
			psdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", o.cfg.TelephoneEventPT)))
	}
	addComfortNoise(md, o.cfg.ComfortNoisePT)
	if withCrypto {
		for _, k := range o.crypto {
			md.Attributes = append(md.Attributes, psdp.NewAttribute("crypto", k.c.String()))
		}
	}
	// One a=ptime per m-line: FreeSWITCH takes the first codec's ("PCMU@30i,PCMA" offers 30).
	ptime := o.cfg.Ptime
	if len(o.codecs) > 0 && o.codecs[0].Ptime > 0 {
		ptime = o.codecs[0].Ptime
	}
	md.Attributes = append(md.Attributes, psdp.NewAttribute("ptime", strconv.Itoa(int(ptime.Milliseconds()))))
	if o.cfg.RTCP {
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtcp", strconv.Itoa(o.cfg.Port+1)))
	}
	md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(o.cfg.Direction.String()))
	return md
}

func rtpmapValue(c media.CodecInfo) string {
	name := c.Name
	if name == "OPUS" {
		name = "opus"
	}
	if c.Channels > 1 {
		return fmt.Sprintf("%d %s/%d/%d", c.PT, name, c.ClockRate, c.Channels)
	}
	return fmt.Sprintf("%d %s/%d", c.PT, name, c.ClockRate)
}

func splitProto(p string) []string {
	var out []string
	start := 0
	for i := range len(p) {
		if p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// ParseOffer reconstructs an Offer from SDP we sent earlier (kept in the dialog, or the seed
// trace in tests) so its answer can be parsed; the a=crypto keys in it are ours.
func ParseOffer(body []byte, cfg Config) (*Offer, error) {
	cfg.defaults()
	_, ms, err := parse(body)
	if err != nil {
		return nil, err
	}
	o := &Offer{SDP: body, cfg: cfg}
	for _, m := range ms {
		for _, c := range m.cryptos {
			if k, err := c.Key(); err == nil {
				dup := false
				for _, x := range o.crypto {
					dup = dup || x.c.Tag == c.Tag
				}
				if !dup {
					o.crypto = append(o.crypto, offeredKey{c, k})
				}
			}
		}
	}
	return o, nil
}

// ParseAnswer reads the answer to this offer and returns what to apply to the port.
func (o *Offer) ParseAnswer(body []byte) (*Result, error) {
	sd, ms, err := parse(body)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.media != "audio" || m.port == 0 {
			continue
		}
		r, ok := o.cfg.pickCodec(m, false)
		if !ok {
			continue
		}
		r.MediaIndex, r.Proto = m.index, m.proto
		fillRemote(r, m)
		if o.cfg.ComfortNoisePT != 0 {
			r.ComfortNoisePT = m.comfortNoise()
		}
		// An answer may narrow what we offered, never widen it (RFC 3264 §6.1): a peer
		// answering our hold with sendrecv still gets no media from us beyond sendonly.
		r.Direction = intersectDir(o.cfg.Direction, m.dir.Reverse())
		if m.hold {
			r.Direction, r.Hold = media.Inactive, true
		}
		if m.dtls() {
			if o.cfg.WebRTC == nil {
				continue
			}
			ours := o.cfg.WebRTC.Setup
			if ours == "" {
				ours = "actpass"
			}
			applyWebRTC(r, sd, m, localSetupFor(ours, remoteWebRTC(sd, m.index).Setup))
			return r, nil
		}
		if len(m.cryptos) > 0 {
			r.RemoteHasCrypto = m.cryptos[0].Suite
		}
		if m.secure() || len(m.cryptos) > 0 {
			if o.cfg.Secure.Mode == SecureForbidden {
				continue
			}
			if err := o.keyAnswer(r, m); err != nil {
				if m.secure() {
					return nil, err
				}
			}
		}
		if o.cfg.Secure.Mode == SecureMandatory && !r.Secure {
			return nil, fmt.Errorf("%w: answer without SRTP while rtp_secure_media is mandatory", ErrNotAcceptable)
		}
		return r, nil
	}
	return nil, fmt.Errorf("%w: no usable audio line in answer", ErrNotAcceptable)
}

func (o *Offer) keyAnswer(r *Result, m *mline) error {
	for _, c := range m.cryptos {
		for _, mine := range o.crypto {
			if mine.c.Tag != c.Tag || mine.k.Suite.Name != mustSuite(c.Suite) {
				continue
			}
			rk, err := c.Key()
			if err != nil {
				return err
			}
			r.Secure, r.Suite, r.Tag, r.LocalKey, r.RemoteKey = true, mine.k.Suite.Name, mine.c.Tag, mine.k, rk
			return nil
		}
	}
	return fmt.Errorf("%w: answer's a=crypto matches nothing we offered", ErrNotAcceptable)
}

func mustSuite(name string) string {
	if s, ok := rtp.LookupSRTPSuite(name); ok {
		return s.Name
	}
	return name
}
