package voicemail

import (
	"context"
	_ "embed"
	"sync"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
)

//go:embed phrases.xml
var builtinXML []byte

var builtin = sync.OnceValue(func() map[string]*etree.Element {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(builtinXML); err != nil {
		panic("voicemail: built-in phrases: " + err.Error())
	}
	out := map[string]*etree.Element{}
	for _, m := range doc.Root().SelectElements("macro") {
		out[m.SelectAttrValue("name", "")] = m
	}
	return out
})

// fallback returns a built-in voicemail macro.
func fallback(name string) *etree.Element { return builtin()[name] }

// phrase plays a voicemail macro from the languages section, else the built-in one. Any digit
// accepted by stop interrupts it and is returned; with nil stop digits stay queued.
func phrase(ctx context.Context, s *core.Session, name, data string, stop func(rune) bool) (rune, error) {
	r, err := playback.Phrase(ctx, s, name, data, playback.Options{Stop: stop, Fallback: fallback})
	return r.Digit, err
}
