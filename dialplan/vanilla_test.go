package dialplan

import (
	"sync"
	"testing"

	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/testconf"
)

var (
	vanillaOnce sync.Once
	vanillaDP   *Dialplan
	vanillaErr  error
)

// vanilla compiles FreeSWITCH's vanilla dialplan (loaded through
// core/xmlconf, timezones.conf included). Skips when the tree is absent.
func vanilla(t testing.TB) *Dialplan {
	t.Helper()
	vanillaDir := testconf.Vanilla(t)
	vanillaOnce.Do(func() {
		snap, err := xmlconf.Load(xmlconf.Options{Dir: vanillaDir})
		if err != nil {
			vanillaErr = err
			return
		}
		vanillaDP, vanillaErr = CompileSnapshot(snap)
	})
	if vanillaErr != nil {
		t.Fatal(vanillaErr)
	}
	return vanillaDP
}
