package playback

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/goswitch/goswitch/sounds"
)

// embeddedStreamFiles lists the embedded music-on-hold files standing in for a local_stream.conf
// directory that has none on disk: a path under $${sounds_dir} (vanilla's
// $${sounds_dir}/music/8000) maps onto the embedded set's music/<rate>. The names returned are
// relative, so they open through the embedded prompts.
func (p *player) embeddedStreamFiles(dir string) []string {
	snap := p.config()
	if snap == nil {
		return nil
	}
	base, _ := snap.Global("sounds_dir")
	if base == "" {
		return nil
	}
	rel, err := filepath.Rel(base, dir)
	if err != nil {
		return nil
	}
	rel = path.Clean(filepath.ToSlash(rel))
	if !strings.HasPrefix(rel, sounds.MusicDir+"/") || !fs.ValidPath(rel) {
		return nil
	}
	files, _ := fs.Glob(sounds.FS(), rel+"/*.wav")
	return files
}
