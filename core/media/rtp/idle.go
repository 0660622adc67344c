package rtp

import (
	"github.com/goswitch/goswitch/core/media"
)

// Idle fill and in-band DTMF switches of an RTP port: what a terminated leg sends while the
// application writes nothing (FreeSWITCH's send_silence_when_idle), and tone generation for the
// digits the channel sends (start_dtmf_generate).

// SetIdleSilence makes a terminated leg send a silence frame every ptime in which the application
// wrote nothing (sleep, the gaps of read, record, voicemail input), as FreeSWITCH does with
// send_silence_when_idle: divisor > 0 adds faint noise whose level falls as the divisor grows
// (silence_stream's divisor), -1 sends digital silence, 0 turns it off (the default: then only
// comfort noise, when negotiated, keeps the stream alive). Relayed legs are not affected. The
// fill runs on the port's media clock, which Stream starts.
func (p *RTPPort) SetIdleSilence(divisor int) {
	p.idleDiv.Store(int32(divisor))
}

// SetInbandDTMFGenerate makes SendDTMF render every digit as tones in the audio whatever the leg
// negotiated (start_dtmf_generate); false goes back to the negotiated form.
func (p *RTPPort) SetInbandDTMFGenerate(on bool) { p.genInband.Store(on) }

// sendIdleLocked sends one frame of silence (or faint noise) for a tick the application left
// empty. smu must be held.
func (p *RTPPort) sendIdleLocked(div int32, ci media.CodecInfo, spf uint32, dir media.Direction) {
	n := ci.SamplesPerFrame()
	pcm := p.encPCM[:n]
	if div > 0 {
		p.idleNoise.Fill(pcm, 1024/div+1)
	} else {
		clear(pcm)
	}
	p.cnTx.on = false
	p.encodeSendLocked(pcm, ci, spf, dir)
}
