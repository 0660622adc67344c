package playback

import (
	"encoding/binary"
	"io"

	"github.com/goswitch/goswitch/core/media/audio"
)

// stereoWav writes a 16-bit interleaved stereo WAV (record_session with RECORD_STEREO: the
// caller on the left, what goswitch sent on the right). Close patches the sizes.
type stereoWav struct {
	w    io.WriteSeeker
	rate int
	ch   int
	data int64
	buf  []byte
	hdr  audio.HeaderSync
}

func newStereoWav(w io.WriteSeeker, rate, channels int) (*stereoWav, error) {
	s := &stereoWav{w: w, rate: rate, ch: channels, hdr: audio.NewHeaderSync(w, rate*2*channels)}
	_, err := w.Write(s.header())
	return s, err
}

func (s *stereoWav) header() []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+s.data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], uint16(s.ch))
	binary.LittleEndian.PutUint32(h[24:], uint32(s.rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(s.rate*2*s.ch))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*s.ch))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(s.data))
	return h
}

// write appends interleaved samples.
func (s *stereoWav) write(pcm []int16) error {
	s.buf = s.buf[:0]
	for _, v := range pcm {
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
	}
	n, err := s.w.Write(s.buf)
	s.data += int64(n)
	if err != nil {
		return err
	}
	return s.hdr.Update(s.data)
}

func (s *stereoWav) close() error {
	if _, err := s.w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := s.w.Write(s.header()); err != nil {
		return err
	}
	if _, err := s.w.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	return audio.SyncFile(s.w)
}
