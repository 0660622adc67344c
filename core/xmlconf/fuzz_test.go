package xmlconf

import (
	"testing"
	"testing/fstest"
)

// FuzzPreprocess feeds arbitrary text through the preprocessor and parser:
// Load must never panic and every error must carry a position inside the
// tree it was given.
func FuzzPreprocess(f *testing.F) {
	f.Add([]byte("<X-PRE-PROCESS cmd=\"set\" data=\"a=1\"/>\n<d v=\"$${a}\"/>\n"))
	f.Add([]byte("<d>\n<!--#include \"inc.xml\"-->\n<!--#comment\nx\n-->\n</d>"))
	f.Add([]byte("<include>\n<d><XX-PRE-PROCESS cmd=\"set\"/>$${x\r\n</d>"))
	f.Add([]byte("<d>\n<X-PRE-PROCESS cmd=\"include\" data=\"*.xml\"/>\n</d>"))
	f.Add([]byte("<a><b></a>"))
	f.Add([]byte("<X-pre-process cmd=\"stun-set\" data=\"e=stun:x\"/><!--#set \"b=${c}\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"freeswitch.xml": {Data: data},
			"inc.xml":        {Data: []byte("<X-PRE-PROCESS cmd=\"include\" data=\"freeswitch.xml\"/>\n<i/>\n")},
		}
		s, err := Load(Options{FS: fsys, Globals: map[string]string{"local_ip_v4": "192.0.2.1"}, Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			e, ok := err.(*Error)
			if !ok || len(e.Errors()) == 0 {
				t.Fatalf("error without diagnostics: %v", err)
			}
			for _, d := range e.Diags {
				if d.Pos.File != "" && d.Pos.File != "freeswitch.xml" && d.Pos.File != "inc.xml" {
					t.Fatalf("diag in unknown file: %v", d)
				}
			}
			return
		}
		if s.Root() == nil {
			t.Fatal("nil root without error")
		}
		for e, p := range s.pos {
			if p.Line < 1 {
				t.Fatalf("element %s at %v", e.Tag, p)
			}
		}
		_ = s.Directory().Domains()
	})
}
