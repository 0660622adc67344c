// Package testconf finds what tests need outside the repository: FreeSWITCH's vanilla
// configuration tree, looked for relative to the repository root as
// ../shared/freeswitch-vanilla-conf (never by an absolute path, and never copied into the
// repository), and external programs such as espeak-ng. When one is missing the test is skipped,
// except under CI=true, where a missing prerequisite fails the test instead of hiding it.
//
// It holds no test logic of its own and imports only the standard library.
package testconf

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// VanillaRel is where FreeSWITCH's vanilla tree lives, relative to the repository root.
const VanillaRel = "../shared/freeswitch-vanilla-conf"

// RepoRoot returns the directory holding go.mod, walking up from the working directory (a test's
// working directory is its package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// VanillaPath returns the vanilla tree's path (relative to the repository root, made absolute)
// and whether it holds a freeswitch.xml.
func VanillaPath() (string, bool) {
	root, err := RepoRoot()
	if err != nil {
		return "", false
	}
	dir := filepath.Clean(filepath.Join(root, VanillaRel))
	st, err := os.Stat(filepath.Join(dir, "freeswitch.xml"))
	return dir, err == nil && st.Mode().IsRegular()
}

// CI reports whether the tests run under CI=true, where missing prerequisites are failures.
func CI() bool { return os.Getenv("CI") == "true" }

// missing skips t, or fails it under CI=true.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (CI=true: a missing prerequisite is a failure)", args...)
	}
	t.Skipf(format, args...)
}

// Vanilla returns the vanilla tree's directory; the test is skipped when it is absent (failed
// under CI=true).
func Vanilla(t testing.TB) string {
	t.Helper()
	dir, ok := VanillaPath()
	if !ok {
		missing(t, "FreeSWITCH vanilla tree not found at <repo>/%s", VanillaRel)
	}
	return dir
}

// Program returns the path of an external program; the test is skipped when it is not installed
// (failed under CI=true).
func Program(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s not installed", name)
	}
	return p
}
