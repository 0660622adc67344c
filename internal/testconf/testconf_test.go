package testconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestVanillaRelativeToRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	dir, _ := VanillaPath()
	if want := filepath.Clean(filepath.Join(root, "..", "shared", "freeswitch-vanilla-conf")); dir != want {
		t.Fatalf("VanillaPath = %s, want %s", dir, want)
	}
	if got := Vanilla(t); got != dir {
		t.Fatalf("Vanilla = %s, want %s", got, dir)
	}
}

// TestMissingUnderCI runs this test binary outside any repository: with CI=true a missing tree
// or program fails the test; without, it is skipped.
func TestMissingUnderCI(t *testing.T) {
	if os.Getenv("TESTCONF_CHILD") == "1" {
		Vanilla(t)
		Program(t, "no-such-program-goswitch")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(exe, "-test.run=^TestMissingUnderCI$", "-test.v")
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "TESTCONF_CHILD=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "--- FAIL")):
			t.Errorf("CI=true: want a failure, got err=%v\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP")):
			t.Errorf("CI unset: want a skip, got err=%v\n%s", err, out)
		}
	}
}
