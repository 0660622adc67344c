package audio

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// A WavWriter that is never closed (the process died) leaves a header that covers every whole
// second written; RepairWav then extends it to the whole file.
func TestWavHeaderKeptCurrentAndRepaired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWavWriter(f, 8000, WavPCM)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i * 100)
	}
	for range 50*3 + 25 { // 3.5 s of 20 ms frames
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, riff := binary.LittleEndian.Uint32(b[40:]), binary.LittleEndian.Uint32(b[4:])
	if data != 3*16000 || riff != data+36 {
		t.Fatalf("unclosed writer after 3.5 s: header data %d riff %d, want 48000/48036", data, riff)
	}
	// What a reader sees before repair: the three seconds the header covers.
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	wr, err := NewWavReader(r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	buf := make([]int16, 1000)
	for {
		k, err := wr.Read(buf)
		n += k
		if err != nil || k == 0 {
			break
		}
	}
	r.Close()
	if n != 24000 {
		t.Errorf("reader got %d samples before repair, want 24000", n)
	}
	frames, rate, err := RepairWav(path)
	if err != nil || rate != 8000 || frames != 28000 {
		t.Fatalf("RepairWav = %d frames at %d Hz, %v; want 28000 at 8000", frames, rate, err)
	}
	b, _ = os.ReadFile(path)
	if d := binary.LittleEndian.Uint32(b[40:]); d != 56000 || binary.LittleEndian.Uint32(b[4:]) != 56036 {
		t.Errorf("repaired header data %d", d)
	}
	// A torn last sample is cut to whole frames.
	if err := os.WriteFile(path, append(b, 0x7f), 0o644); err != nil {
		t.Fatal(err)
	}
	if frames, _, err := RepairWav(path); err != nil || frames != 28000 {
		t.Errorf("torn sample: %d frames, %v", frames, err)
	}
	if _, _, err := RepairWav(filepath.Join(t.TempDir(), "none.wav")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a wav file at all, not at all, not at all, no"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := RepairWav(path); err == nil {
		t.Error("RepairWav accepted a non-WAV file")
	}
}
