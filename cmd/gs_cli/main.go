// Command gs_cli is goswitch's console, a work-alike of FreeSWITCH's fs_cli: it speaks the event
// socket protocol, so it drives goswitch and FreeSWITCH alike.
//
//	gs_cli [-H host] [-P port] [-p password] [-u user@domain] [-x command]... [-l loglevel]
//	       [-q] [-b] [-r] [-R] [-d level] [-t timeout_ms] [-T connect_timeout_ms] [profile]
//
// Profiles are read from ~/.gs_cli_conf (then ~/.fs_cli_conf), INI style:
//
//	[default]
//	host => 127.0.0.1
//	port => 8021
//	password => ClueCon
//	loglevel => info
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are fs_cli's settings after profile and flags.
type options struct {
	host, port, user, password string
	loglevel                   string
	quiet, batch               bool
	retry, reconnect           bool
	debug                      int
	timeout, connectTimeout    time.Duration
	exec                       []string
	noColor                    bool
	history                    string
	profile                    string
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ";") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := options{host: "127.0.0.1", port: "8021", password: "ClueCon", loglevel: "debug",
		connectTimeout: 2 * time.Second}
	fs := flag.NewFlagSet("gs_cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var host, port, user, password, loglevel string
	var quiet, batch, retry, reconnect, noColor bool
	var debug, timeoutMS, connectMS int
	var execs multi
	for _, n := range []string{"H", "host"} {
		fs.StringVar(&host, n, "", "Host to connect")
	}
	for _, n := range []string{"P", "port"} {
		fs.StringVar(&port, n, "", "Port to connect (1 - 65535)")
	}
	for _, n := range []string{"u", "user"} {
		fs.StringVar(&user, n, "", "user@domain (userauth)")
	}
	for _, n := range []string{"p", "password"} {
		fs.StringVar(&password, n, "", "Password")
	}
	for _, n := range []string{"x", "execute"} {
		fs.Var(&execs, n, "Execute Command and Exit")
	}
	for _, n := range []string{"l", "loglevel"} {
		fs.StringVar(&loglevel, n, "", "Log Level")
	}
	for _, n := range []string{"q", "quiet"} {
		fs.BoolVar(&quiet, n, false, "Disable logging")
	}
	for _, n := range []string{"b", "batchmode"} {
		fs.BoolVar(&batch, n, false, "Batch mode (no line editing)")
	}
	for _, n := range []string{"r", "retry"} {
		fs.BoolVar(&retry, n, false, "Retry connection on failure")
	}
	for _, n := range []string{"R", "reconnect"} {
		fs.BoolVar(&reconnect, n, false, "Reconnect if disconnected")
	}
	for _, n := range []string{"d", "debug"} {
		fs.IntVar(&debug, n, 0, "Debug Level (0 - 7)")
	}
	for _, n := range []string{"t", "timeout"} {
		fs.IntVar(&timeoutMS, n, 0, "Timeout for API commands (in milliseconds)")
	}
	for _, n := range []string{"T", "connect-timeout"} {
		fs.IntVar(&connectMS, n, 0, "Timeout for socket connection (in milliseconds)")
	}
	for _, n := range []string{"n", "no-color"} {
		fs.BoolVar(&noColor, n, false, "Disable colors")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	o.profile = "default"
	if fs.NArg() > 0 {
		o.profile = fs.Arg(0)
	}
	home, _ := os.UserHomeDir()
	if home != "" {
		for _, name := range []string{".gs_cli_conf", ".fs_cli_conf"} {
			if applyProfile(&o, filepath.Join(home, name), o.profile) {
				break
			}
		}
		o.history = filepath.Join(home, ".gs_cli_history")
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.host, host)
	set(&o.port, port)
	set(&o.user, user)
	set(&o.password, password)
	set(&o.loglevel, loglevel)
	o.quiet = o.quiet || quiet
	o.batch, o.retry, o.reconnect, o.noColor = batch, retry, reconnect, o.noColor || noColor
	o.debug = debug
	if timeoutMS > 0 {
		o.timeout = time.Duration(timeoutMS) * time.Millisecond
	}
	if connectMS > 0 {
		o.connectTimeout = time.Duration(connectMS) * time.Millisecond
	}
	o.exec = execs
	if n, err := strconv.Atoi(o.port); err != nil || n < 1 || n > 65535 {
		fmt.Fprintln(stderr, "ERROR: Port must be in range 1 - 65535")
		return 1
	}
	if len(o.exec) > 0 {
		return execute(o, stdout, stderr)
	}
	return interactive(o, stdin, stdout, stderr)
}

// applyProfile reads one [profile] section of an fs_cli style config ("key => value" or
// "key = value"). It reports whether the section was found.
func applyProfile(o *options, path, profile string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	found, in := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			in = strings.TrimSpace(strings.Trim(line, "[]")) == profile
			found = found || in
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=>")
		if !ok {
			k, v, ok = strings.Cut(line, "=")
		}
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "host":
			o.host = v
		case "port":
			o.port = v
		case "user", "username":
			o.user = v
		case "password":
			o.password = v
		case "loglevel", "log-level":
			o.loglevel = v
		case "quiet":
			o.quiet = v == "true" || v == "1" || v == "yes"
		case "debug":
			o.debug, _ = strconv.Atoi(v)
		case "no-color", "disable-color":
			o.noColor = v == "true" || v == "1" || v == "yes"
		case "timeout":
			if n, err := strconv.Atoi(v); err == nil {
				o.timeout = time.Duration(n) * time.Millisecond
			}
		case "connect-timeout":
			if n, err := strconv.Atoi(v); err == nil {
				o.connectTimeout = time.Duration(n) * time.Millisecond
			}
		}
	}
	return found
}
