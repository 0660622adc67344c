package audio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWavRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		format WavFormat
		rate   int
		tol    int
	}{{WavPCM, 8000, 0}, {WavPCM, 16000, 0}, {WavULaw, 8000, 1100}, {WavALaw, 8000, 1100}} {
		path := filepath.Join(t.TempDir(), "x.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWavWriter(f, tc.rate, tc.format)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := NewToneGenerator("%(100,0,440)", tc.rate)
		src := readAll(t, g, 1<<20)
		if err := w.Write(src[:333]); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(src[333:]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		data, _ := os.ReadFile(path)
		r, err := NewWavReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if r.Rate() != tc.rate || r.Format() != tc.format {
			t.Fatalf("rate %d format %d", r.Rate(), r.Format())
		}
		got := readAll(t, r, 1<<20)
		if len(got) != len(src) {
			t.Fatalf("%v: %d samples, want %d", tc.format, len(got), len(src))
		}
		for i := range got {
			if d := int(got[i]) - int(src[i]); d > tc.tol || d < -tc.tol {
				t.Fatalf("%v: sample %d: %d vs %d", tc.format, i, got[i], src[i])
			}
		}
	}
}

func TestWavReaderRejects(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("RIFF\x00\x00\x00\x00WAVX"), []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00")} {
		if _, err := NewWavReader(bytes.NewReader(b)); !errors.Is(err, ErrWavFormat) {
			t.Errorf("%q: err %v", b, err)
		}
	}
}

func TestWavStereoDownmix(t *testing.T) {
	var buf bytes.Buffer
	hdr := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data\x08\x00\x00\x00")
	buf.Write(hdr)
	buf.Write([]byte{100, 0, 200, 0, 0xff, 0xff, 1, 0})
	r, err := NewWavReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 10)
	n, err := r.Read(pcm)
	if err != nil || n != 2 || pcm[0] != 150 || pcm[1] != 0 {
		t.Fatalf("n=%d err=%v pcm=%v", n, err, pcm[:n])
	}
	if _, err := r.Read(pcm); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestSilence(t *testing.T) {
	s := NewSilence(8000, 100, 0)
	pcm := readAll(t, s, 1<<20)
	if len(pcm) != 800 || energy(pcm) != 0 {
		t.Fatalf("len %d energy %g", len(pcm), energy(pcm))
	}
	s = NewSilence(8000, 100, 400)
	pcm = readAll(t, s, 1<<20)
	if energy(pcm) == 0 {
		t.Fatal("comfort noise silent")
	}
}
