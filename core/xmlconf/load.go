package xmlconf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/beevik/etree"
)

// Options says where the tree is and how to preprocess it.
type Options struct {
	Dir       string            // conf dir on disk holding freeswitch.xml (wins over FS)
	FS        fs.FS             // embedded tree, root holds freeswitch.xml
	File      string            // root file, default "freeswitch.xml"
	Globals   map[string]string // built-ins set before preprocessing; nil = BuiltinGlobals(Dir)
	Overrides map[string]string // -set name=value from the command line: win over X-PRE-PROCESS set
	AllowExec bool              // run exec and exec-set commands
	Env       func(string) (string, bool)
	// WriteExpanded, when set, receives the preprocessed text (FreeSWITCH's
	// log/freeswitch.xml.fsxml), written before parsing so it can be
	// inspected when parsing fails.
	WriteExpanded string
}

// Snapshot is one loaded tree. It is immutable once Load returns: callers
// must not modify the elements it hands out.
type Snapshot struct {
	doc      *etree.Document
	root     *etree.Element
	pos      map[*etree.Element]Pos
	globals  map[string]string
	warnings []Diag
	dir      *Directory
	expanded []byte

	mu       sync.RWMutex
	attached map[string]any
}

// Load preprocesses and parses the tree. On failure it returns an *Error
// listing every problem as file:line.
func Load(opts Options) (*Snapshot, error) {
	file := opts.File
	if file == "" {
		file = "freeswitch.xml"
	}
	var src source
	var root, cwd string
	switch {
	case opts.Dir != "":
		src = osSource{}
		root = file
		if !filepath.IsAbs(file) {
			root = filepath.Join(opts.Dir, file)
		}
		cwd = opts.Dir
	case opts.FS != nil:
		src = fsSource{opts.FS}
		root, cwd = file, "."
	default:
		return nil, &Error{Diags: []Diag{{Msg: "xmlconf: no config directory or file system given"}}}
	}

	globals := opts.Globals
	if globals == nil {
		globals = BuiltinGlobals(opts.Dir)
	}
	pp := &preprocessor{
		src:       src,
		vars:      maps.Clone(globals),
		overrides: opts.Overrides,
		allowExec: opts.AllowExec,
		env:       opts.Env,
		undef:     map[string]bool{},
	}
	if pp.vars == nil {
		pp.vars = map[string]string{}
	}
	if pp.env == nil {
		pp.env = os.LookupEnv
	}
	maps.Copy(pp.vars, opts.Overrides)
	pp.file(cwd, root, 0, Pos{})

	if opts.WriteExpanded != "" {
		if err := os.WriteFile(opts.WriteExpanded, pp.out.Bytes(), 0o644); err != nil {
			pp.warn(Pos{}, "cannot write expanded config: %v", err)
		}
	}
	if hasErrors(pp.diags) {
		return nil, &Error{Diags: pp.diags}
	}

	s := &Snapshot{globals: pp.vars, expanded: pp.out.Bytes()}
	if err := s.parse(pp, root); err != nil {
		return nil, err
	}
	s.dir = buildDirectory(s, pp)
	s.warnings = pp.diags
	if hasErrors(pp.diags) {
		return nil, &Error{Diags: pp.diags}
	}
	return s, nil
}

func hasErrors(ds []Diag) bool {
	for _, d := range ds {
		if !d.Warning {
			return true
		}
	}
	return false
}

// parse checks the preprocessed text with encoding/xml (which gives line
// numbers and catches mismatched tags), records the line of every start tag,
// then builds the etree document and pairs its elements, in document order,
// with those lines.
func (s *Snapshot) parse(pp *preprocessor, rootFile string) error {
	text := escapeBareAmpersands(pp.out.Bytes())
	lineAt := newLineIndex(text)

	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.Strict = true
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var starts []Pos
	depth, roots := 0, 0
	var rootEnd int64
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			line := lineAt(dec.InputOffset())
			msg := err.Error()
			if errors.As(err, &se) {
				line, msg = se.Line, se.Msg
			}
			pp.fail(pp.origin(line), "XML syntax error: %s", msg)
			return &Error{Diags: pp.diags}
		}
		switch tok.(type) {
		case xml.StartElement:
			p := pp.origin(lineAt(off))
			if depth == 0 {
				roots++
				if roots == 2 {
					pp.fail(p, "XML syntax error: more than one root element")
					return &Error{Diags: pp.diags}
				}
			}
			starts = append(starts, p)
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				rootEnd = dec.InputOffset()
			}
		}
	}
	if roots == 0 {
		pp.fail(Pos{File: rootFile}, "no XML element left after preprocessing")
		return &Error{Diags: pp.diags}
	}

	// etree's ValidateInput rejects any token after the root element, even
	// the final newline, so it only gets the text up to the root's end.
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{ValidateInput: true}
	if err := doc.ReadFromBytes(text[:rootEnd]); err != nil {
		pp.fail(Pos{File: rootFile}, "XML error: %v", err)
		return &Error{Diags: pp.diags}
	}
	s.doc, s.root = doc, doc.Root()
	s.pos = make(map[*etree.Element]Pos, len(starts))
	i := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if i < len(starts) {
			s.pos[e] = starts[i]
		}
		i++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(s.root)
	if i != len(starts) {
		// Cannot happen while etree and encoding/xml agree on elements;
		// positions would be wrong, so drop them rather than mislead.
		clear(s.pos)
		pp.warn(Pos{File: rootFile}, "element positions unavailable (%d elements, %d start tags)", i, len(starts))
	}
	if s.root.Tag != "document" {
		pp.warn(s.pos[s.root], "root element is <%s>, FreeSWITCH expects <document type=\"freeswitch/xml\">", s.root.Tag)
	}
	return nil
}

// newLineIndex returns a function mapping a byte offset to its 1-based line,
// counting '\n' as encoding/xml does.
func newLineIndex(text []byte) func(off int64) int {
	var starts []int64
	for i, c := range text {
		if c == '\n' {
			starts = append(starts, int64(i))
		}
	}
	return func(off int64) int {
		return sort.Search(len(starts), func(i int) bool { return starts[i] >= off }) + 1
	}
}

// Root returns the root element (<document>).
func (s *Snapshot) Root() *etree.Element { return s.root }

// Globals returns a copy of the preprocessor variables after loading.
func (s *Snapshot) Globals() map[string]string { return maps.Clone(s.globals) }

// Global returns one preprocessor variable.
func (s *Snapshot) Global(name string) (string, bool) {
	v, ok := s.globals[name]
	return v, ok
}

// Expanded returns the preprocessed text that was parsed.
func (s *Snapshot) Expanded() []byte { return s.expanded }

// Section returns <section name="..."> under the root (name compared without
// case, as switch_xml_find_child does), or nil.
func (s *Snapshot) Section(name string) *etree.Element {
	return findChild(s.root, "section", "name", name)
}

// Configuration returns <configuration name="sofia.conf"> from the
// configuration section, or nil.
func (s *Snapshot) Configuration(name string) *etree.Element {
	return findChild(s.Section("configuration"), "configuration", "name", name)
}

// findChild is switch_xml_find_child: the first child with the tag whose
// attribute equals value, ignoring case.
func findChild(e *etree.Element, tag, attr, value string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == tag && strings.EqualFold(c.SelectAttrValue(attr, ""), value) {
			return c
		}
	}
	return nil
}

// Pos returns where an element of this snapshot was written in the original
// files; the zero Pos for elements it does not know.
func (s *Snapshot) Pos(e *etree.Element) Pos { return s.pos[e] }

// Warnings returns the problems that did not stop the load.
func (s *Snapshot) Warnings() []Diag { return append([]Diag(nil), s.warnings...) }

// Attach stores a value compiled from this snapshot (the compiled dialplan,
// module configs). Use it only while loading, before the snapshot is shared.
func (s *Snapshot) Attach(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attached == nil {
		s.attached = map[string]any{}
	}
	s.attached[key] = v
}

// Attached returns what Attach stored under key, or nil.
func (s *Snapshot) Attached(key string) any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.attached[key]
}

// Directory returns the directory section compiled into domains and users.
func (s *Snapshot) Directory() *Directory { return s.dir }

// String describes the snapshot for logs.
func (s *Snapshot) String() string {
	return fmt.Sprintf("xmlconf.Snapshot(%d elements, %d globals, %d warnings)", len(s.pos), len(s.globals), len(s.warnings))
}
