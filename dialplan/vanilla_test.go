package dialplan

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/goswitch/goswitch/core/xmlconf"
)

const vanillaDir = "/work/shared/freeswitch-vanilla-conf"

var (
	vanillaOnce sync.Once
	vanillaDP   *Dialplan
	vanillaErr  error
)

// vanilla compiles FreeSWITCH's vanilla dialplan, through core/xmlconf
// when it loads the tree, else through a minimal preprocessor good enough
// for the dialplan files. Skips when the tree is absent.
func vanilla(t testing.TB) *Dialplan {
	t.Helper()
	if _, err := os.Stat(filepath.Join(vanillaDir, "dialplan", "default.xml")); err != nil {
		t.Skip("vanilla conf not present")
	}
	vanillaOnce.Do(func() {
		if snap, err := xmlconf.Load(xmlconf.Options{Dir: vanillaDir}); err == nil {
			vanillaDP, _, vanillaErr = Compile(snap.Section("dialplan"), snap.Pos)
			return
		}
		vanillaDP, vanillaErr = miniVanilla()
	})
	if vanillaErr != nil {
		t.Fatal(vanillaErr)
	}
	return vanillaDP
}

var (
	ppSet     = regexp.MustCompile(`<X-PRE-PROCESS\s+cmd="set"\s+data="([^=]+)=([^"]*)"\s*/>`)
	ppInclude = regexp.MustCompile(`<X-PRE-PROCESS\s+cmd="include"\s+data="([^"]+)"\s*/>`)
	ppGlobal  = regexp.MustCompile(`\$\$\{([^}]+)\}`)
	xmlDecl   = regexp.MustCompile(`<\?xml[^>]*\?>`)
	comments  = regexp.MustCompile(`(?s)<!--.*?-->`)
)

func miniVanilla() (*Dialplan, error) {
	globals := map[string]string{"conf_dir": "/etc/freeswitch", "recordings_dir": "/var/lib/freeswitch/recordings", "temp_dir": "/tmp"}
	vars, err := os.ReadFile(filepath.Join(vanillaDir, "vars.xml"))
	if err != nil {
		return nil, err
	}
	for _, m := range ppSet.FindAllStringSubmatch(comments.ReplaceAllString(string(vars), ""), -1) {
		globals[m[1]] = ppGlobal.ReplaceAllStringFunc(m[2], func(s string) string { return globals[s[3:len(s)-1]] })
	}
	var read func(path string) (string, error)
	read = func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		s := comments.ReplaceAllString(xmlDecl.ReplaceAllString(string(b), ""), "")
		var ferr error
		s = ppInclude.ReplaceAllStringFunc(s, func(inc string) string {
			pat := ppInclude.FindStringSubmatch(inc)[1]
			files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), pat))
			var out strings.Builder
			for _, f := range files {
				txt, err := read(f)
				if err != nil {
					ferr = err
				}
				out.WriteString(txt)
			}
			return out.String()
		})
		return s, ferr
	}
	var body strings.Builder
	body.WriteString(`<section name="dialplan">`)
	files, _ := filepath.Glob(filepath.Join(vanillaDir, "dialplan", "*.xml"))
	for _, f := range files {
		s, err := read(f)
		if err != nil {
			return nil, err
		}
		body.WriteString(s)
	}
	body.WriteString(`</section>`)
	text := ppGlobal.ReplaceAllStringFunc(body.String(), func(s string) string { return globals[s[3:len(s)-1]] })
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		return nil, err
	}
	dp, _, err := Compile(doc.Root(), nil)
	return dp, err
}
