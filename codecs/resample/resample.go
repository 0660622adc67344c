// Package resample converts 16-bit mono PCM between 8, 16, 32 and 48 kHz. The converter lives in
// core/media (media.Resampler) because Streams convert rates themselves; this package is the
// codecs-side entry point named in the architecture.
package resample

import "github.com/goswitch/goswitch/core/media"

// Resampler is a stateful polyphase converter; see media.Resampler.
type Resampler = media.Resampler

// New returns a converter from rate in to rate out.
func New(in, out int) *Resampler { return media.NewResampler(in, out) }
