package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/goswitch/goswitch/core/media"
)

// WavFormat is the sample encoding of a WAV file.
type WavFormat uint16

// WAVE format tags we read and write.
const (
	WavPCM  WavFormat = 1 // 16-bit linear (8-bit is read too)
	WavALaw WavFormat = 6
	WavULaw WavFormat = 7
)

// ErrWavFormat reports a WAV file we cannot play.
var ErrWavFormat = errors.New("media: unsupported wav file")

// WavReader decodes a WAV file into mono 16-bit PCM; it implements Source. Stereo files are
// mixed down. The rate is the file's; Stream.WriteFrame converts it to the leg's rate.
type WavReader struct {
	r        io.Reader
	format   WavFormat
	rate     int
	channels int
	bits     int
	left     int64 // bytes left in the data chunk
	buf      []byte
	dec      media.Decoder // A-law and u-law files: the registry's G.711 decoder
	pcm      []int16       // its output, before the channels are mixed down
}

// g711 names the registered codec that carries a G.711 WAV format ("" for linear PCM).
func (f WavFormat) g711() string {
	switch f {
	case WavALaw:
		return "PCMA"
	case WavULaw:
		return "PCMU"
	}
	return ""
}

// lookupG711 finds the codec for an A-law or u-law file in the registry (codecs/g711 registers
// them), so the file code and the RTP path share one G.711 implementation.
func lookupG711(f WavFormat) (media.Codec, error) {
	c, ok := media.LookupCodec(f.g711(), 8000, 1)
	if !ok {
		return nil, fmt.Errorf("%w: format %d needs the %s codec registered", ErrWavFormat, f, f.g711())
	}
	return c, nil
}

// NewWavReader parses the RIFF header and positions r at the first sample.
func NewWavReader(r io.Reader) (*WavReader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWavFormat, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not RIFF/WAVE", ErrWavFormat)
	}
	w := &WavReader{r: r}
	gotFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk", ErrWavFormat)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[0:4]) {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return nil, fmt.Errorf("%w: fmt chunk size %d", ErrWavFormat, size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrWavFormat, err)
			}
			w.format = WavFormat(binary.LittleEndian.Uint16(b[0:]))
			w.channels = int(binary.LittleEndian.Uint16(b[2:]))
			w.rate = int(binary.LittleEndian.Uint32(b[4:]))
			w.bits = int(binary.LittleEndian.Uint16(b[14:]))
			if w.format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: sub-format GUID
				w.format = WavFormat(binary.LittleEndian.Uint16(b[24:]))
			}
			gotFmt = true
		case "data":
			if !gotFmt {
				return nil, fmt.Errorf("%w: data before fmt", ErrWavFormat)
			}
			if err := w.check(); err != nil {
				return nil, err
			}
			w.left = size
			if size == 0 || size == 0xFFFFFFFF { // streaming writers leave it unset
				w.left = 1 << 62
			}
			return w, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrWavFormat, err)
			}
		}
	}
}

func (w *WavReader) check() error {
	ok := w.channels >= 1 && w.channels <= 2 && w.rate >= 8000 && w.rate <= 192000
	switch w.format {
	case WavPCM:
		ok = ok && (w.bits == 16 || w.bits == 8)
	case WavALaw, WavULaw:
		ok = ok && w.bits == 8
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("%w: format %d, %d ch, %d Hz, %d bit", ErrWavFormat, w.format, w.channels, w.rate, w.bits)
	}
	if w.format.g711() != "" {
		c, err := lookupG711(w.format)
		if err != nil {
			return err
		}
		w.dec = c.NewDecoder()
	}
	return nil
}

// Rate is the file's sample rate.
func (w *WavReader) Rate() int { return w.rate }

// Format is the file's encoding.
func (w *WavReader) Format() WavFormat { return w.format }

// Read decodes up to len(pcm) mono samples.
func (w *WavReader) Read(pcm []int16) (int, error) {
	if w.left <= 0 {
		return 0, io.EOF
	}
	bps := w.bits / 8 * w.channels
	want := int64(len(pcm) * bps)
	want = min(want, w.left)
	if cap(w.buf) < int(want) {
		w.buf = make([]byte, want)
	}
	b := w.buf[:want]
	n, err := io.ReadFull(w.r, b)
	n -= n % bps
	w.left -= int64(n)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		w.left = 0
		err = nil
	}
	frames := n / bps
	if w.dec != nil { // one byte per sample: decode them all, then mix the channels down
		if cap(w.pcm) < n {
			w.pcm = make([]int16, n)
		}
		if _, err := w.dec.Decode(w.pcm[:n], b[:n]); err != nil {
			return 0, err
		}
		for i := range frames {
			var acc int32
			for c := range w.channels {
				acc += int32(w.pcm[i*w.channels+c])
			}
			pcm[i] = int16(acc / int32(w.channels))
		}
		return w.result(frames, err)
	}
	for i := range frames {
		var acc int32
		for c := range w.channels {
			off := i*bps + c*w.bits/8
			acc += int32(w.decode(b[off:]))
		}
		pcm[i] = int16(acc / int32(w.channels))
	}
	return w.result(frames, err)
}

func (w *WavReader) result(frames int, err error) (int, error) {
	if frames == 0 && err == nil {
		return 0, io.EOF
	}
	return frames, err
}

// decode reads one linear sample (8-bit unsigned or 16-bit little-endian).
func (w *WavReader) decode(b []byte) int16 {
	switch {
	case w.bits == 8:
		return int16(int(b[0])-128) << 8
	default:
		return int16(binary.LittleEndian.Uint16(b))
	}
}

// WavWriter writes mono WAV files (16-bit PCM, A-law or u-law). Close patches the sizes. When
// the destination is also an io.WriterAt (an *os.File), the RIFF and data sizes in the header
// are rewritten (two 4-byte pwrites) after every second of audio, so a file left behind by a
// crash (kill -9) is a valid WAV holding everything up to the last second; RepairWav recovers
// the rest. Close fsyncs an *os.File: a finished recording survives a power loss.
type WavWriter struct {
	w      io.WriteSeeker
	format WavFormat
	rate   int
	data   int64
	buf    []byte
	closed bool
	hdr    HeaderSync
	enc    media.Encoder // A-law and u-law: the registry's G.711 encoder
}

// HeaderSync rewrites the sizes of a canonical 44-byte WAV header (RIFF size at offset 4, data
// size at 40) once per second of data written, so that a crash leaves a playable file.
type HeaderSync struct {
	at     io.WriterAt // nil: sizes only on close
	every  int64       // bytes of data between updates (one second)
	synced int64       // data size the header last recorded
}

// NewHeaderSync updates w's header when w is an io.WriterAt; bytesPerSec is the data rate.
func NewHeaderSync(w io.Writer, bytesPerSec int) HeaderSync {
	at, _ := w.(io.WriterAt)
	return HeaderSync{at: at, every: int64(max(bytesPerSec, 1))}
}

// Update records data (the data chunk's size so far) in the header when a second has passed
// since the last update.
func (h *HeaderSync) Update(data int64) error {
	if h.at == nil || data-h.synced < h.every {
		return nil
	}
	return h.write(data)
}

func (h *HeaderSync) write(data int64) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(min(36+data, 0xFFFFFFFF)))
	if _, err := h.at.WriteAt(b[:], 4); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(min(data, 0xFFFFFFFF)))
	if _, err := h.at.WriteAt(b[:], 40); err != nil {
		return err
	}
	h.synced = data
	return nil
}

// SyncFile fsyncs w when it is a file (a recording's last step).
func SyncFile(w any) error {
	if f, ok := w.(interface{ Sync() error }); ok {
		return f.Sync()
	}
	return nil
}

// NewWavWriter writes a header for a mono file at rate in the given format.
func NewWavWriter(w io.WriteSeeker, rate int, format WavFormat) (*WavWriter, error) {
	if format != WavPCM && format != WavALaw && format != WavULaw {
		return nil, fmt.Errorf("%w: cannot write format %d", ErrWavFormat, format)
	}
	ww := &WavWriter{w: w, format: format, rate: rate}
	if format != WavPCM {
		c, err := lookupG711(format)
		if err != nil {
			return nil, err
		}
		ww.enc = c.NewEncoder()
	}
	bps := rate * 2
	if format != WavPCM {
		bps = rate
	}
	ww.hdr = NewHeaderSync(w, bps)
	if _, err := w.Write(ww.header()); err != nil {
		return nil, err
	}
	return ww, nil
}

func (w *WavWriter) header() []byte {
	bits := 16
	if w.format != WavPCM {
		bits = 8
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+w.data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], uint16(w.format))
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(w.rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(w.rate*bits/8))
	binary.LittleEndian.PutUint16(h[32:], uint16(bits/8))
	binary.LittleEndian.PutUint16(h[34:], uint16(bits))
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(w.data))
	return h
}

// Rate is the file's sample rate.
func (w *WavWriter) Rate() int { return w.rate }

// Write appends samples (already at the file's rate).
func (w *WavWriter) Write(pcm []int16) error {
	if w.closed {
		return media.ErrClosed
	}
	w.buf = w.buf[:0]
	if w.enc != nil {
		w.buf = append(w.buf, make([]byte, len(pcm))...)
		if _, err := w.enc.Encode(w.buf, pcm); err != nil {
			return err
		}
	} else {
		for _, s := range pcm {
			w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
		}
	}
	n, err := w.w.Write(w.buf)
	w.data += int64(n)
	if err != nil {
		return err
	}
	return w.hdr.Update(w.data)
}

// Close rewrites the header with the final sizes. It does not close the underlying file.
func (w *WavWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.data&1 == 1 { // RIFF chunks are word aligned
		if _, err := w.w.Write([]byte{0}); err != nil {
			return err
		}
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := w.w.Write(w.header()); err != nil {
		return err
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	return SyncFile(w.w)
}

// RepairWav fixes the RIFF and data sizes of a canonical 44-byte-header WAV file (as WavWriter
// and record_session write it) left behind by a crash: the data chunk becomes everything after
// the header, cut to whole sample frames. It reports the number of sample frames and the rate.
func RepairWav(path string) (frames int64, rate int, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var h [44]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrWavFormat, err)
	}
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || binary.LittleEndian.Uint32(h[16:]) != 16 || string(h[36:40]) != "data" {
		return 0, 0, fmt.Errorf("%w: not a canonical wav header", ErrWavFormat)
	}
	rate = int(binary.LittleEndian.Uint32(h[24:]))
	align := int64(binary.LittleEndian.Uint16(h[32:]))
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if rate <= 0 || align <= 0 {
		return 0, 0, fmt.Errorf("%w: rate %d, block align %d", ErrWavFormat, rate, align)
	}
	data := st.Size() - 44
	data -= data % align
	if data > 0xFFFFFFFF-36 {
		data = (0xFFFFFFFF - 36) / align * align
	}
	hs := HeaderSync{at: f}
	if int64(binary.LittleEndian.Uint32(h[40:])) != data || int64(binary.LittleEndian.Uint32(h[4:])) != 36+data {
		if err := hs.write(data); err != nil {
			return 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, err
		}
	}
	return data / align, rate, nil
}
