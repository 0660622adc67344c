package playback

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

// RecordOptions describe one recording (switch_ivr_record_file).
type RecordOptions struct {
	Limit         time.Duration // 0 = no limit
	SilenceThresh int           // average absolute sample level below which a frame is silent; 0 = off
	SilenceHits   int           // seconds of continuous silence that end the recording
	Stop          func(d rune) bool
	Format        audio.WavFormat // default PCM
}

// Recorded describes a finished recording.
type Recorded struct {
	Samples int64
	Rate    int
	Digit   rune // the digit that stopped it
	Reason  string
}

// Duration returns the recording's length.
func (r Recorded) Duration() time.Duration {
	if r.Rate == 0 {
		return 0
	}
	return time.Duration(r.Samples) * time.Second / time.Duration(r.Rate)
}

// Record writes what the caller says into a mono WAV file at the stream's rate until a stop
// digit, the time limit, silence, or the end of ctx (the file is kept on hangup).
func Record(ctx context.Context, s *core.Session, path string, o RecordOptions) (Recorded, error) {
	st := s.Media()
	if st == nil {
		return Recorded{}, core.ErrNoMedia
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return Recorded{}, err
	}
	f, err := os.Create(path)
	if err != nil {
		return Recorded{}, err
	}
	defer f.Close()
	if o.Format == 0 {
		o.Format = audio.WavPCM
	}
	w, err := audio.NewWavWriter(f, st.Rate(), o.Format)
	if err != nil {
		return Recorded{}, err
	}
	rec := Recorded{Rate: st.Rate()}
	framesPerSec := int(time.Second / st.Ptime())
	hits := o.SilenceHits * framesPerSec
	silent := 0
	limit := int64(0)
	if o.Limit > 0 {
		limit = int64(o.Limit.Seconds() * float64(st.Rate()))
	}
	var fr media.Frame
	for {
		select {
		case d := <-s.DTMF():
			if o.Stop != nil && o.Stop(d.Digit) {
				rec.Digit, rec.Reason = d.Digit, "dtmf"
				return rec, w.Close()
			}
			continue
		default:
		}
		if err := st.ReadFrame(ctx, &fr); err != nil {
			rec.Reason = "hangup"
			if cerr := w.Close(); cerr != nil {
				return rec, cerr
			}
			return rec, err
		}
		if err := w.Write(fr.PCM); err != nil {
			return rec, err
		}
		rec.Samples += int64(len(fr.PCM))
		if o.SilenceThresh > 0 && hits > 0 {
			if audio.Energy(fr.PCM) < o.SilenceThresh {
				silent++
				if silent >= hits {
					rec.Reason = "silence"
					return rec, w.Close()
				}
			} else {
				silent = 0
			}
		}
		if limit > 0 && rec.Samples >= limit {
			rec.Reason = "limit"
			return rec, w.Close()
		}
	}
}

// errRecordExists is returned when record_session already records to the same path.
var errRecordExists = errors.New("record_session: already recording to this file")
