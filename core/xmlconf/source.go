package xmlconf

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// source is where config files come from: a directory on disk or an fs.FS
// (the embedded default tree). Names are what Pos.File shows.
type source interface {
	readFile(name string) ([]byte, error)
	isDir(name string) bool
	glob(pattern string) ([]string, error)
	join(dir, name string) string
	dir(name string) string
	isAbs(name string) bool
	sep() string
}

type osSource struct{}

func (osSource) readFile(name string) ([]byte, error) { return os.ReadFile(name) }
func (osSource) isDir(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}
func (osSource) glob(p string) ([]string, error) { return filepath.Glob(p) }
func (osSource) join(d, n string) string         { return filepath.Join(d, n) }
func (osSource) dir(n string) string             { return filepath.Dir(n) }
func (osSource) isAbs(n string) bool             { return filepath.IsAbs(n) }
func (osSource) sep() string                     { return string(filepath.Separator) }

type fsSource struct{ fsys fs.FS }

func (s fsSource) readFile(name string) ([]byte, error) { return fs.ReadFile(s.fsys, name) }
func (s fsSource) isDir(name string) bool {
	fi, err := fs.Stat(s.fsys, name)
	return err == nil && fi.IsDir()
}
func (s fsSource) glob(p string) ([]string, error) { return fs.Glob(s.fsys, p) }
func (fsSource) join(d, n string) string           { return path.Join(d, n) }
func (fsSource) dir(n string) string               { return path.Dir(n) }
func (fsSource) isAbs(n string) bool               { return strings.HasPrefix(n, "/") }
func (fsSource) sep() string                       { return "/" }

// hasMeta reports whether a glob pattern has any of glob(3)'s magic characters.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// dropHidden removes matches that glob(3) would not return: a wildcard never
// matches a leading '.' of a path component unless the pattern spells it.
// Go's Match lets '*' match dot files, FreeSWITCH's glob does not.
func dropHidden(sep, pattern string, matches []string) []string {
	pc := strings.Split(pattern, sep)
	out := matches[:0]
	for _, m := range matches {
		mc := strings.Split(m, sep)
		keep := true
		if len(mc) == len(pc) {
			for i := range mc {
				if strings.HasPrefix(mc[i], ".") && !strings.HasPrefix(pc[i], ".") && hasMeta(pc[i]) {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
}
