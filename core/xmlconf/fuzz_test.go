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

// FuzzLoadDirectory puts arbitrary bytes inside a directory section, so the
// directory builder sees whatever the parser accepts.
func FuzzLoadDirectory(f *testing.F) {
	f.Add([]byte(`<domain name="d"><groups><group name="g"><users><user id="1" number-alias="2"/><user id="1" type="pointer"/></users></group></groups></domain>`))
	f.Add([]byte(`<domain name="d"><user id="a"><gateways><gateway name="x"><param name="p" value="v"/></gateway></gateways></user></domain><domain name="D"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := append([]byte("<document>\n<section name=\"directory\">\n"), data...)
		doc = append(doc, "\n</section>\n</document>\n"...)
		s, err := Load(Options{FS: fstest.MapFS{"freeswitch.xml": {Data: doc}}, Globals: map[string]string{}})
		if err != nil {
			return
		}
		d := s.Directory()
		for _, dom := range d.Domains() {
			if dom.Name == "" {
				continue
			}
			if d.Domain(dom.Name) == nil {
				t.Fatalf("domain %q not found by name", dom.Name)
			}
			if d.Domain(dom.Name) != dom {
				continue // a later duplicate: lookups find the first
			}
			for _, u := range dom.Users {
				if got := d.User(u.ID, dom.Name); got == nil {
					t.Fatalf("user %q@%q not found", u.ID, dom.Name)
				}
			}
			for _, g := range dom.Groups {
				_ = d.GroupUsers(dom.Name, g.Name)
			}
		}
	})
}
