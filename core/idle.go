package core

import (
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/media"
)

// idleFiller is a port that can send silence while nothing is written (rtp.RTPPort).
type idleFiller interface {
	SetIdleSilence(divisor int)
	Stream() media.Stream
}

// silenceDivisor reads send_silence_when_idle as FreeSWITCH does: atoi, 0 = off, -1 = digital
// silence, any other value <= 0 becomes 400 (SWITCH_IVR_VERIFY_SILENCE_DIVISOR).
func silenceDivisor(v string) int {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0 // unset, the usual case: spare Atoi's error value
	}
	n, _ := strconv.Atoi(v)
	if n < 0 && n != -1 {
		n = 400
	}
	return n
}

// applyIdleSilence hands send_silence_when_idle to the leg before an application runs: while the
// application writes nothing (sleep, the gaps of read and play_and_get_digits, record, voicemail
// input) the leg sends silence frames at its packet rate, as FreeSWITCH's sleep, digit collection
// and recording loops do. Without it, an idle leg sends only RFC 3389 comfort noise, when
// negotiated and once its stream has started (FreeSWITCH's auto-CNG).
func (s *Session) applyIdleSilence() {
	p, ok := s.Port().(idleFiller)
	if !ok {
		return
	}
	div := silenceDivisor(s.Var("send_silence_when_idle"))
	p.SetIdleSilence(div)
	if div != 0 && (s.Answered() || s.Early()) {
		p.Stream() // the fill runs on the media clock the stream starts
	}
}
