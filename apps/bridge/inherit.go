package bridge

import (
	"strings"

	"github.com/goswitch/goswitch/core"
)

// inheritCodec is FreeSWITCH's inherit_codec=true on the A-leg: before the A-leg answers (or
// sends early media), it takes the codec the B-leg settled on, when its caller offered it, so
// both legs use one codec and the bridge relays. The A-leg's SDP is not out yet, so setting
// absolute_codec_string re-negotiates it (inbound late negotiation).
func inheritCodec(a, b *core.Session) {
	if a.Answered() || a.Early() || !core.True(a.Var("inherit_codec")) {
		return
	}
	name := b.Var("rtp_use_codec_name")
	if name == "" || !strings.Contains(strings.ToUpper(a.Var("ep_codec_string")), strings.ToUpper(name)) {
		return
	}
	cs := name
	if r := b.Var("rtp_use_codec_rate"); r != "" {
		cs += "@" + r + "h"
	}
	if p := b.Var("rtp_use_codec_ptime"); p != "" {
		cs += "@" + p + "i"
	}
	a.SetVar("absolute_codec_string", cs)
}
