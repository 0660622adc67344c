package playback

import (
	"context"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func init() { core.RegisterFilePlayer(playInto) }

// playInto plays a file string into st for s, whose variables and configuration it uses
// (local_stream.conf, sound_prefix, language); digits are left alone. The core plays hold music
// with it into the held channel's bridged partner.
func playInto(ctx context.Context, s *core.Session, st media.Stream, file string) error {
	opts := Options{Language: firstNonEmpty(s.Var("language"), s.Var("default_language"), "en")}
	p := &player{ctx: ctx, s: s, st: st, opts: opts}
	_, err := p.result(p.play(file))
	return err
}
