package dptools

import (
	"context"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

// In-band DTMF: start_dtmf detects tones in what the caller sends and hands the digits to the
// channel exactly like RFC 4733 ones (read, play_and_get_digits, IVR menus and voicemail see them,
// a DTMF event with DTMF-Source INBAND_AUDIO fires, a bridge passes them on); start_dtmf_generate
// turns the digits the channel sends into tones in its audio. spandsp_start_dtmf and
// spandsp_stop_dtmf are mod_spandsp's names for the same detector.

// inbandPort is what an RTP leg offers for in-band DTMF (rtp.RTPPort).
type inbandPort interface {
	SetInbandDTMF(on bool)
	SetInbandDTMFGenerate(on bool)
	Stream() media.Stream
}

func init() {
	reg("start_dtmf", "", "Detect dtmf", 0, inbandDetect(true))
	reg("stop_dtmf", "", "stop inband dtmf", noMedia, inbandDetect(false))
	reg("start_dtmf_generate", "", "Generate dtmf", 0, inbandGenerate(true))
	reg("stop_dtmf_generate", "", "stop inband dtmf generation", noMedia, inbandGenerate(false))
	for _, a := range []core.AppInfo{
		{Name: "spandsp_start_dtmf", Syntax: "", Short: "Detect dtmf", App: inbandDetect(true)},
		{Name: "spandsp_stop_dtmf", Syntax: "", Short: "stop inband dtmf", Flags: noMedia, App: inbandDetect(false)},
	} {
		a.Module = "mod_spandsp"
		core.RegisterApp(a)
	}
}

func inbandPortOf(s *core.Session) (inbandPort, bool) {
	p, ok := s.Port().(inbandPort)
	return p, ok
}

// inbandDetect switches detection on the channel's read path. The detector runs on decoded
// audio: on a relayed bridge the port also decodes a copy of what it relays (the relay itself is
// unchanged), so the port's media clock is started here.
func inbandDetect(on bool) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		p, ok := inbandPortOf(s)
		if !ok {
			if on {
				s.Log().Warn("in-band DTMF detection needs an RTP leg")
			}
			return nil
		}
		p.SetInbandDTMF(on)
		if on {
			p.Stream()
		}
		return nil
	}
}

func inbandGenerate(on bool) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		if p, ok := inbandPortOf(s); ok {
			p.SetInbandDTMFGenerate(on)
		}
		return nil
	}
}
