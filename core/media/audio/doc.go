// Package audio is goswitch's signal processing and sound files on 16-bit PCM: tone_stream://
// scripts (ToneGenerator), silence_stream:// and comfort noise (SilenceSource, ComfortNoise,
// Noise, CNLevel), in-band DTMF detection and generation (InbandDetector, NewDTMFTone), WAV
// reading and crash-safe writing (WavReader, WavWriter, RepairWav), and the one frame energy
// measure (Energy, FreeSWITCH's average absolute sample).
//
// It does not mix (the conference owns goswitch's one mixer and uses Energy, Clip16 and Noise from
// here), does not resample (media.Resampler, because Streams convert rates themselves), and has
// no codec of its own: A-law and u-law WAV files use the G.711 codec from media's registry, so a
// program reading them must link codecs/g711.
//
//	g, _ := audio.NewToneGenerator("%(2000,4000,440,480)", s.Rate()) // tone_stream:// body
//	media.Play(ctx, s, g)                                            // until EOF or ctx ends
//	r, _ := audio.NewWavReader(f); media.Play(ctx, s, r)             // 8/16 kHz PCM, A/u-law
//	w, _ := audio.NewWavWriter(f, 8000, audio.WavPCM); w.Write(frame.PCM); w.Close()
//	media.Play(ctx, s, audio.NewSilence(rate, ms, divisor))          // silence_stream://
//	det := audio.NewInbandDetector(rate, fn); remove := s.AddTap(det) // start_dtmf
//	gen, _ := audio.NewDTMFTone("123", 100*time.Millisecond, 50*time.Millisecond, rate)
package audio
