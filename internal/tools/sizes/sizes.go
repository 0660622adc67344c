// Package sizes measures Go source against the project's size rules (STYLE.md): no production
// file over MaxFileLines lines and no function over MaxFuncLines lines. Its test walks the
// repository, so `go test ./...` fails when a change breaks the rule.
package sizes

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The limits of STYLE.md.
const (
	MaxFileLines = 600
	MaxFuncLines = 120
)

// Offender is one file or function over its limit.
type Offender struct {
	File  string // slash-separated, relative to the walked root
	Func  string // empty for a whole file
	Lines int
	Test  bool // a _test.go file: reported, not enforced
}

// Key names the offender without its size: "file" or "file:Func".
func (o Offender) Key() string {
	if o.Func == "" {
		return o.File
	}
	return o.File + ":" + o.Func
}

func (o Offender) String() string {
	if o.Func == "" {
		return fmt.Sprintf("%s: %d lines (max %d)", o.File, o.Lines, MaxFileLines)
	}
	return fmt.Sprintf("%s: func %s: %d lines (max %d)", o.File, o.Func, o.Lines, MaxFuncLines)
}

// Generated reports whether src carries the standard "Code generated ... DO NOT EDIT." line
// (https://go.dev/s/generatedcode); generated tables are exempt.
func Generated(f *ast.File) bool {
	return ast.IsGenerated(f)
}

// Check measures one parsed file.
func Check(fset *token.FileSet, f *ast.File, name string) []Offender {
	test := strings.HasSuffix(name, "_test.go")
	var out []Offender
	if n := fset.File(f.Pos()).LineCount(); n > MaxFileLines {
		out = append(out, Offender{File: name, Lines: n, Test: test})
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
		if n > MaxFuncLines {
			out = append(out, Offender{File: name, Func: funcName(fd), Lines: n, Test: test})
		}
	}
	return out
}

func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// Walk checks every .go file under root, skipping testdata, vendor, hidden directories and
// generated files, and returns the offenders sorted by file.
func Walk(root string) ([]Offender, error) {
	var out []Offender
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return err
		}
		if Generated(f) {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		out = append(out, Check(fset, f, filepath.ToSlash(rel))...)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, err
}
