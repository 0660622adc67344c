package playback

import (
	"github.com/goswitch/goswitch/core/media"
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
	g, err := media.NewToneGenerator(holdMusic, rate)
	if err != nil {
		panic("playback: hold music script: " + err.Error())
	}
	return g
}
