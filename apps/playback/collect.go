package playback

import (
	"context"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

// Read results (the read_result variable).
const (
	ReadSuccess = "success"
	ReadTimeout = "timeout"
	ReadFailure = "failure"
)

// Collect describes one digit collection (switch_ivr_read).
type Collect struct {
	Prompt       string        // file string played first; any digit interrupts it and counts
	Min, Max     int           // digits wanted; Max 0 = unlimited until a terminator
	Terminators  string        // digits that end input (not stored)
	Timeout      time.Duration // for the first digit after the prompt
	DigitTimeout time.Duration // between digits; 0 = Timeout
	Options      Options       // sound prefix, language for the prompt
}

// Input is what Collect gathered.
type Input struct {
	Digits     string
	Terminator rune   // the terminator that ended input, 0 if none
	Result     string // success, timeout, failure
}

// GetDigits plays c.Prompt and collects digits. It returns ctx's error when the call ends.
func GetDigits(ctx context.Context, s *core.Session, c Collect) (Input, error) {
	var in Input
	if c.DigitTimeout <= 0 {
		c.DigitTimeout = c.Timeout
	}
	accept := func(d rune) (done bool) {
		if strings.ContainsRune(c.Terminators, d) {
			in.Terminator = d
			return true
		}
		in.Digits += string(d)
		return c.Max > 0 && len(in.Digits) >= c.Max
	}
	if c.Prompt != "" {
		opts := c.Options
		opts.Stop = AnyDigit
		r, err := Play(ctx, s, c.Prompt, opts)
		if err != nil && ctx.Err() != nil {
			return in, ctx.Err()
		}
		if err != nil {
			s.Log().Debug("prompt failed", "file", c.Prompt, "err", err)
		}
		if r.Digit != 0 && accept(r.Digit) {
			return finish(in, c), nil
		}
	}
	wait := c.Timeout
	if in.Digits != "" {
		wait = c.DigitTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return in, ctx.Err()
		case d := <-s.DTMF():
			if accept(d.Digit) {
				return finish(in, c), nil
			}
			timer.Reset(c.DigitTimeout)
		case <-timer.C:
			if in.Digits == "" {
				in.Result = ReadTimeout
				return in, nil
			}
			return finish(in, c), nil
		}
	}
}

func finish(in Input, c Collect) Input {
	switch {
	case in.Digits == "" && in.Terminator == 0:
		in.Result = ReadTimeout
	case len(in.Digits) < c.Min:
		in.Result = ReadFailure
	default:
		in.Result = ReadSuccess
	}
	return in
}

// WaitDigit waits up to d for one digit; 0 when none came.
func WaitDigit(ctx context.Context, s *core.Session, d time.Duration) (rune, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case x := <-s.DTMF():
		return x.Digit, nil
	case <-t.C:
		return 0, nil
	}
}
