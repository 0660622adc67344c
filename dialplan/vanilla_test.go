package dialplan

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/goswitch/goswitch/core/xmlconf"
)

const vanillaDir = "/work/shared/freeswitch-vanilla-conf"

var (
	vanillaOnce sync.Once
	vanillaDP   *Dialplan
	vanillaErr  error
)

// vanilla compiles FreeSWITCH's vanilla dialplan (loaded through
// core/xmlconf, timezones.conf included). Skips when the tree is absent.
func vanilla(t testing.TB) *Dialplan {
	t.Helper()
	if _, err := os.Stat(filepath.Join(vanillaDir, "dialplan", "default.xml")); err != nil {
		t.Skip("vanilla conf not present")
	}
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
