package playback

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/sounds"
)

// fileRates are tried, after the stream's own rate, in mod_sndfile's order when a sound pack lays
// files out as <dir>/<rate>/<file>.
var fileRates = []int{48000, 32000, 16000, 8000}

// Candidates lists where a file is looked for, FreeSWITCH style: <dir>/<rate>/<file> for the
// channel rate, then for the highest rates, then the literal path.
func Candidates(p string, rate int) []string {
	dir, base := filepath.Split(p)
	out := make([]string, 0, len(fileRates)+2)
	out = append(out, filepath.Join(dir, strconv.Itoa(rate), base))
	for _, r := range fileRates {
		if r != rate {
			out = append(out, filepath.Join(dir, strconv.Itoa(r), base))
		}
	}
	return append(out, p)
}

// ResolvePath returns the file a file name refers to: relative names go under prefix
// (${sound_prefix}). ok is false when nothing exists on disk.
func ResolvePath(name, prefix string, rate int) (string, bool) {
	full := name
	if !filepath.IsAbs(name) && prefix != "" {
		full = filepath.Join(prefix, name)
	}
	for _, c := range Candidates(full, rate) {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, true
		}
	}
	return full, false
}

// embeddedName maps a file name onto the embedded prompt set: relative names as they are,
// absolute names under the sound prefix with the prefix removed.
func embeddedName(name, prefix string) (string, bool) {
	if filepath.IsAbs(name) {
		if prefix == "" {
			return "", false
		}
		rel, err := filepath.Rel(prefix, name)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", false
		}
		name = rel
	}
	name = path.Clean(filepath.ToSlash(name))
	if !fs.ValidPath(name) {
		return "", false
	}
	return name, true
}

// OpenSound opens a prompt for reading: from disk (with the rate directories), else from the
// embedded prompts. The returned close function must be called.
func OpenSound(name, prefix string, rate int) (media.Source, func(), error) {
	if path.Ext(name) == "" {
		name += ".wav"
	}
	if full, ok := ResolvePath(name, prefix, rate); ok {
		f, err := os.Open(full)
		if err != nil {
			return nil, nil, err
		}
		src, err := audio.NewWavReader(f)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return src, func() { f.Close() }, nil
	}
	if rel, ok := embeddedName(name, prefix); ok {
		efs := sounds.FS()
		dir, base := path.Split(rel)
		tries := []string{path.Join(dir, strconv.Itoa(rate), base), rel}
		if rate != 8000 {
			tries = append(tries, path.Join(dir, "8000", base))
		}
		for _, t := range tries {
			f, err := efs.Open(t)
			if err != nil {
				continue
			}
			src, err := audio.NewWavReader(f)
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			return src, func() { f.Close() }, nil
		}
	}
	return nil, nil, &os.PathError{Op: "open", Path: name, Err: ErrNotFound}
}

func (p *player) prefix() string {
	if p.opts.SoundPrefix != "" || p.s == nil {
		return p.opts.SoundPrefix
	}
	return p.s.Var("sound_prefix")
}

func (p *player) open(name string) (media.Source, func(), error) {
	return OpenSound(name, p.prefix(), p.st.Rate())
}
