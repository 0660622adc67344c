package media

import (
	"context"
	"io"
)

// Source produces linear PCM at Rate(): tone generators, WAV readers, silence. Read fills pcm
// and returns io.EOF when the source is finished (possibly with n > 0 for the last piece).
type Source interface {
	Rate() int
	Read(pcm []int16) (n int, err error)
}

// ReadFull fills pcm from src, like io.ReadFull for samples. It returns io.EOF only when nothing
// was read.
func ReadFull(src Source, pcm []int16) (int, error) {
	n := 0
	for n < len(pcm) {
		k, err := src.Read(pcm[n:])
		n += k
		if err != nil {
			if err == io.EOF && n > 0 {
				return n, nil
			}
			return n, err
		}
		if k == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// Play writes src into s frame by frame until src ends or ctx is cancelled. The stream's clock
// paces it, so Play returns roughly when the far end has heard the audio.
func Play(ctx context.Context, s Stream, src Source) error {
	n := src.Rate() * int(s.Ptime().Milliseconds()) / 1000
	buf := make([]int16, n)
	f := Frame{Rate: src.Rate()}
	for {
		k, err := ReadFull(src, buf)
		if k > 0 {
			clear(buf[k:])
			f.PCM = buf
			if werr := s.WriteFrame(ctx, &f); werr != nil {
				return werr
			}
		}
		if err == io.EOF || (err == nil && k < n) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
