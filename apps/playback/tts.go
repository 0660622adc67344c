package playback

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/audio"
)

// ttsCommand is the speech synthesizer used for say: file strings and speak-text phrase actions.
// goswitch has no TTS engine of its own; when espeak-ng is installed it is used (whatever
// tts_engine names), otherwise say: is skipped like a missing file.
const ttsCommand = "espeak-ng"

// speak renders text with the external synthesizer and plays it.
func (p *player) speak(text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	path, err := exec.LookPath(ttsCommand)
	if err != nil {
		p.log().Warn("no TTS engine for say:", "text", text)
		return fmt.Errorf("%w: no TTS engine", ErrNotFound)
	}
	args := []string{"--stdout", "-s", "170"}
	if v := p.ttsVoice(); v != "" {
		args = append(args, "-v", v)
	}
	cmd := exec.CommandContext(p.ctx, path, append(args, "--", text)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		if p.ctx.Err() != nil {
			return p.ctx.Err()
		}
		return fmt.Errorf("playback: tts: %w", err)
	}
	src, err := audio.NewWavReader(&out)
	if err != nil {
		return fmt.Errorf("playback: tts output: %w", err)
	}
	return p.pump(src)
}

// ttsVoice maps tts_voice to an espeak-ng voice when it names one we know; FreeSWITCH's usual
// voices (callie, rms, slt, kal, awb) are English.
func (p *player) ttsVoice() string {
	v := p.opts.Voice
	if v == "" && p.s != nil {
		v = p.s.Var("tts_voice")
	}
	switch v = strings.ToLower(v); v {
	case "", "callie", "rms", "slt", "kal", "awb", "allison":
		return "en-us"
	default:
		if strings.ContainsAny(v, "/ ") {
			return "en-us"
		}
		return v
	}
}

// Speak is the speak application's work: text with the given (or ${tts_voice}) voice.
func Speak(ctx context.Context, s *core.Session, voice, text string, opts Options) (Result, error) {
	p, err := newPlayer(ctx, s, opts)
	if err != nil {
		return Result{}, err
	}
	p.opts.Voice = voice
	err = p.speak(text)
	return p.result(err)
}
