//go:build (linux || darwin || freebsd) && !noopus

package opus

import (
	"math"
	"testing"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/core/media"
)

func sine(n int, f, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/rate))
	}
	return out
}

// power is the Goertzel power of f in pcm, normalised by length.
func power(pcm []int16, f float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/rate)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v) + k*s1 - s2
		s2, s1 = s1, s
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(pcm)*len(pcm))
}

func TestRegisteredAsSDPSays(t *testing.T) {
	c, ok := media.LookupCodec("OPUS", 48000, 2)
	if !ok {
		t.Fatal("opus/48000/2 not in the codec registry")
	}
	if i := c.Info(); i.SampleRate != 48000 || i.Ptime.Milliseconds() != 20 || i.PT != PT {
		t.Fatalf("info = %+v", i)
	}
}

// A 1 kHz tone through encoder and decoder comes out as 1 kHz: the tone's bin dominates the
// neighbours, and the level survives within a few dB.
func TestRoundTripTone(t *testing.T) {
	enc, dec := Codec{}.NewEncoder(), Codec{}.NewDecoder()
	in := sine(48000, 1000, 8000)
	pay := make([]byte, maxPkt)
	frame := make([]int16, 5760)
	var out []int16
	for off := 0; off+960 <= len(in); off += 960 {
		n, err := enc.Encode(pay, in[off:off+960])
		if err != nil || n == 0 || n > 200 {
			t.Fatalf("encode: n=%d err=%v", n, err)
		}
		m, err := dec.Decode(frame, pay[:n])
		if err != nil || m != 960 {
			t.Fatalf("decode: m=%d err=%v", m, err)
		}
		out = append(out, frame[:m]...)
	}
	tail := out[len(out)/2:] // past the encoder's start-up
	p1k, p600, p1400 := power(tail, 1000), power(tail, 600), power(tail, 1400)
	if p1k < 100*p600 || p1k < 100*p1400 {
		t.Fatalf("1 kHz %.1f vs 600 Hz %.1f, 1.4 kHz %.1f", p1k, p600, p1400)
	}
	ref := power(in[len(in)/2:], 1000)
	if db := 10 * math.Log10(p1k/ref); db < -3 || db > 3 {
		t.Fatalf("level changed by %.1f dB", db)
	}
}

func TestConcealAndErrors(t *testing.T) {
	enc, dec := Codec{}.NewEncoder(), Codec{}.NewDecoder()
	if _, err := enc.Encode(make([]byte, 100), make([]int16, 100)); err != ErrFrame {
		t.Fatalf("odd frame size: err = %v", err)
	}
	if _, err := dec.Decode(make([]int16, 960), []byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatal("garbage packet decoded without error")
	}
	pay := make([]byte, maxPkt)
	frame := make([]int16, 960)
	for off := 0; off < 10; off++ {
		n, _ := enc.Encode(pay, sine(960, 1000, 8000))
		if _, err := dec.Decode(frame, pay[:n]); err != nil {
			t.Fatal(err)
		}
	}
	if n := dec.Conceal(frame); n != 960 {
		t.Fatalf("conceal wrote %d samples", n)
	}
	if power(frame, 1000) == 0 {
		t.Fatal("PLC after a tone is silence")
	}
}

func TestNoAllocs(t *testing.T) {
	enc, dec := Codec{}.NewEncoder(), Codec{}.NewDecoder()
	in := sine(960, 1000, 8000)
	pay := make([]byte, maxPkt)
	frame := make([]int16, 960)
	if a := testing.AllocsPerRun(50, func() {
		n, _ := enc.Encode(pay, in)
		_, _ = dec.Decode(frame, pay[:n])
	}); a != 0 {
		t.Fatalf("%.1f allocs per frame", a)
	}
}

// BenchmarkEncodeDecode20ms is one 20 ms frame through libopus both ways (32 kbit/s, complexity 5).
func BenchmarkEncodeDecode20ms(b *testing.B) {
	enc, dec := Codec{}.NewEncoder(), Codec{}.NewDecoder()
	in := sine(960, 1000, 8000)
	pay := make([]byte, maxPkt)
	frame := make([]int16, 960)
	b.ReportAllocs()
	for b.Loop() {
		n, _ := enc.Encode(pay, in)
		_, _ = dec.Decode(frame, pay[:n])
	}
}

// BenchmarkTranscode is one 20 ms packet through the media engine's Transcoder, as a browser on
// Opus bridged to a PCMU phone costs per packet each way (decode, resample 48 <-> 8 kHz, encode).
func BenchmarkTranscode(b *testing.B) {
	op := Codec{}.Info()
	pcmu := media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: 20 * time.Millisecond}
	enc := Codec{}.NewEncoder()
	opusPkt := make([]byte, maxPkt)
	n, _ := enc.Encode(opusPkt, sine(960, 1000, 8000))
	ulaw := make([]byte, 160)
	for i := range ulaw {
		ulaw[i] = 0xff
	}
	for _, tc := range []struct {
		name     string
		from, to media.CodecInfo
		in       []byte
	}{{"opus-pcmu", op, pcmu, opusPkt[:n]}, {"pcmu-opus", pcmu, op, ulaw}} {
		b.Run(tc.name, func(b *testing.B) {
			tr, err := media.NewTranscoder(tc.from, tc.to)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 1500)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Transcode(dst, tc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
