// Package pgtest runs a throw-away PostgreSQL cluster for tests: initdb and pg_ctl (Debian's
// /usr/lib/postgresql/<v>/bin) on a temp dir, listening on a unix socket only, trust auth. As
// root the server runs as the "postgres" user (PostgreSQL refuses root) through runuser.
package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/goswitch/goswitch/internal/peer"
)

// Server is one running cluster.
type Server struct {
	Dir    string // data directory
	Socket string // unix socket directory
	bin    string
	runAs  string // "" = current user
	t      testing.TB
}

// BinDir finds the newest Debian PostgreSQL bin dir, or "" when PostgreSQL is not installed.
func BinDir() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Start initialises and starts a cluster, stopped (immediate mode) and removed at cleanup. A
// missing PostgreSQL skips the test, or fails it under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		peer.Missing(t, "PostgreSQL (initdb, pg_ctl) not installed")
	}
	root, err := os.MkdirTemp("", "goswitch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: filepath.Join(root, "data"), Socket: root, bin: bin, t: t}
	t.Cleanup(func() { os.RemoveAll(root) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			peer.Missing(t, "running as root and no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.runAs = "postgres"
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := s.run("initdb", "-D", s.Dir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := s.StartServer(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// DSN is FreeSWITCH's keyword form, as a core-db-dsn / odbc-dsn would carry it.
func (s *Server) DSN() string {
	return fmt.Sprintf("pgsql://host=%s dbname=postgres user=postgres sslmode=disable", s.Socket)
}

// URL is the same database in URL form.
func (s *Server) URL() string {
	return fmt.Sprintf("postgresql:///postgres?host=%s&user=postgres&sslmode=disable", s.Socket)
}

// StartServer starts (or restarts after Stop) the server and waits until it accepts connections.
func (s *Server) StartServer() error {
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -F -c max_connections=200", s.Socket)
	if out, err := s.run("pg_ctl", "-D", s.Dir, "-w", "-t", "60", "-l", filepath.Join(s.Socket, "log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Socket, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server at once (connections are cut, as if the database host went away).
func (s *Server) Stop() {
	if _, err := os.Stat(filepath.Join(s.Dir, "postmaster.pid")); err != nil {
		return
	}
	if out, err := s.run("pg_ctl", "-D", s.Dir, "-w", "-m", "immediate", "stop"); err != nil {
		s.t.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}
