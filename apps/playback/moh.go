package playback

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

// holdMusic is what local_stream:// plays when no music files are configured: a soft, slow
// arpeggio (C, E, G, E ... F, A, C, A ...) that loops forever. It is quiet enough (-20 dBFS)
// to stay pleasant for a long hold.
const holdMusic = "v=-20;" +
	"%(350,50,261.63,523.25);%(350,50,329.63,659.25);%(350,50,392,783.99);%(350,50,329.63,659.25);" +
	"%(350,50,349.23,698.46);%(350,50,440,880);%(350,50,523.25,1046.5);%(350,50,440,880);" +
	"%(350,50,293.66,587.33);%(350,50,349.23,698.46);%(350,50,440,880);%(350,50,349.23,698.46);" +
	"%(350,50,246.94,493.88);%(350,50,293.66,587.33);%(350,50,392,783.99);%(350,450,293.66,587.33);" +
	"L=-1"

// NewHoldMusic returns the built-in music-on-hold source at rate; it never ends.
func NewHoldMusic(rate int) media.Source {
	g, err := audio.NewToneGenerator(holdMusic, rate)
	if err != nil {
		panic("playback: hold music script: " + err.Error())
	}
	return g
}

// localStreamFiles returns the files of a local_stream.conf directory for the stream name:
// "<name>/<rate>", then "<name>", then "default" (mod_local_stream's lookup), sorted, shuffled
// when the directory asks for it.
func (p *player) localStreamFiles(name string) []string {
	snap := p.config()
	if snap == nil {
		return nil
	}
	conf := snap.Configuration("local_stream.conf")
	if conf == nil {
		return nil
	}
	dirs := map[string]*etree.Element{}
	for _, d := range conf.SelectElements("directory") {
		dirs[d.SelectAttrValue("name", "")] = d
	}
	for _, n := range []string{name + "/" + strconv.Itoa(p.st.Rate()), name, "default"} {
		d := dirs[n]
		if d == nil {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(d.SelectAttrValue("path", ""), "*.wav"))
		if len(files) == 0 {
			files = p.embeddedStreamFiles(d.SelectAttrValue("path", ""))
		}
		if len(files) == 0 {
			continue
		}
		sort.Strings(files)
		for _, prm := range d.SelectElements("param") {
			if prm.SelectAttrValue("name", "") == "shuffle" && isTrue(prm.SelectAttrValue("value", "")) {
				rand.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
			}
		}
		return files
	}
	return nil
}

// localStream plays local_stream://<name>: the configured music files in a loop, else the
// built-in hold music. It never ends by itself.
func (p *player) localStream(name string) error {
	files := p.localStreamFiles(name)
	for len(files) > 0 {
		before := p.samples
		for _, f := range files {
			if err := p.playFile(f); err != nil && !isNotFound(err) && !errors.Is(err, audio.ErrWavFormat) {
				return err
			}
		}
		if p.samples == before { // nothing playable: don't spin
			break
		}
	}
	return p.pump(NewHoldMusic(p.st.Rate()))
}
