package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FreeSWITCH's start flags (freeswitch -help, src/switch.c) that goswitch's own flag set lacks.
// fsStartFlags takes them out of the command line before flag parsing, so a FreeSWITCH service
// unit (`freeswitch -u freeswitch -g freeswitch -ncwait -nonat`) starts goswitch unchanged:
//
//	-u USER, -g GROUP          switch to that user and group at start (as root), like FreeSWITCH
//	-ncwait                    background and return once the switch is ready (implies -nc);
//	                           the pid goes to <run_dir>/freeswitch.pid as well (Type=forking units)
//	-stop                      send SIGTERM to the switch whose pid is in <run_dir> and exit
//	-base DIR                  base directory: -conf DIR/conf unless -conf is given
//	-temp -scripts -htdocs -grammar -cache -mod -images -fonts DIR
//	                           set $${temp_dir} $${script_dir} $${htdocs_dir} $${grammar_dir}
//	                           $${cache_dir} $${mod_dir} $${images_dir} $${fonts_dir}
//	-reincarnate -reincarnate-reexec -core -waste -rp -lp -np -hp -vg -nosql -heavy-timer
//	-nonatmap -nocal -nort -elegant-term -monotonic-clock
//	                           accepted and ignored with a notice: goswitch has no equivalent
//	                           (or, like clock calibration, does not need one)
//
// goswitch's -nc keeps its own meaning (no console output, stays in the foreground, as the
// README's examples run it); -ncwait is the backgrounding form.
var fsIgnoredFlags = map[string]string{
	"reincarnate":         "goswitch does not restart itself; let the service manager do it (Restart=)",
	"reincarnate-reexec":  "goswitch does not restart itself; let the service manager do it (Restart=)",
	"core":                "core dumps follow the process's RLIMIT_CORE (LimitCORE= in the unit)",
	"waste":               "no memory pools to waste",
	"rp":                  "scheduling priority is left to the service manager (Nice=, CPUSchedulingPolicy=)",
	"lp":                  "scheduling priority is left to the service manager (Nice=)",
	"np":                  "scheduling priority is left to the service manager (Nice=)",
	"vg":                  "no valgrind mode",
	"nosql":               "no core SQL scoreboard to disable",
	"heavy-timer":         "goswitch has one timer",
	"nonatmap":            "goswitch does no NAT port mapping (UPnP/NAT-PMP)",
	"nocal":               "goswitch does not calibrate the clock",
	"nort":                "goswitch's timers use the monotonic clock",
	"elegant-term":        "SIGTERM already drains calls before exiting",
	"monotonic-clock":     "goswitch's timers use the monotonic clock",
	"service":             "Windows only",
	"install":             "Windows only",
	"uninstall":           "Windows only",
	"reincarnate-monitor": "goswitch does not restart itself",
	"hp":                  "scheduling priority is left to the service manager (Nice=)",
}

// fsDirFlags are FreeSWITCH's directory flags goswitch has no flag of its own for: each sets the
// $${...} global of that name.
var fsDirFlags = map[string]string{
	"temp": "temp_dir", "scripts": "script_dir", "htdocs": "htdocs_dir", "grammar": "grammar_dir",
	"cache": "cache_dir", "mod": "mod_dir", "images": "images_dir", "fonts": "fonts_dir",
}

// ncwaitEnv carries the ready pipe's descriptor to the backgrounded child.
const ncwaitEnv = "GOSWITCH_NCWAIT_FD"

// fsStart is what fsStartFlags found.
type fsStart struct {
	user, group string
	ncwait      bool
	stop        bool     // -stop: signal the running switch (pid file in run_dir) and exit
	ready       *os.File // in the backgrounded child: written once the switch is ready
	globals     map[string]string
}

// fsStartFlags removes FreeSWITCH-only start flags from args, printing a notice for each one it
// ignores, and returns the rest for goswitch's flag set.
func fsStartFlags(args []string, notice io.Writer) ([]string, *fsStart, error) {
	fs := &fsStart{globals: map[string]string{}}
	var rest []string
	hasConf := false
	base := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if name == a || name == "" { // not a flag
			rest = append(rest, a)
			continue
		}
		value := func() (string, error) {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				return "", fmt.Errorf("flag -%s needs an argument", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case name == "u" || name == "g":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			if name == "u" {
				fs.user = v
			} else {
				fs.group = v
			}
		case name == "stop":
			fs.stop = true
		case name == "ncwait":
			fs.ncwait = true
			rest = append(rest, "-nc")
		case name == "base":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			base = v
		case fsDirFlags[name] != "":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			if abs, err := filepath.Abs(v); err == nil {
				v = abs
			}
			fs.globals[fsDirFlags[name]] = v
		case fsIgnoredFlags[name] != "":
			fmt.Fprintf(notice, "goswitch: notice: FreeSWITCH flag -%s accepted and ignored: %s\n", name, fsIgnoredFlags[name])
		default:
			if name == "conf" || strings.HasPrefix(name, "conf=") {
				hasConf = true
			}
			rest = append(rest, a)
		}
	}
	if base != "" && !hasConf {
		rest = append(rest, "-conf", filepath.Join(base, "conf"))
	}
	if fd := os.Getenv(ncwaitEnv); fd != "" { // we are the backgrounded child
		fs.ncwait = false
		if n, err := strconv.Atoi(fd); err == nil {
			fs.ready = os.NewFile(uintptr(n), "ncwait")
		}
		os.Unsetenv(ncwaitEnv)
	}
	return rest, fs, nil
}

// switchUser drops to -u/-g, as FreeSWITCH's change_user_group: the group first (and the
// supplementary groups to it alone), then the user. Asking for the current ids is a no-op.
func (fs *fsStart) switchUser() error {
	if fs.user == "" && fs.group == "" {
		return nil
	}
	uid, gid := -1, -1
	if fs.user != "" {
		u, err := user.Lookup(fs.user)
		if err != nil {
			if u, err = user.LookupId(fs.user); err != nil {
				return fmt.Errorf("-u %s: unknown user", fs.user)
			}
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if fs.group != "" {
		g, err := user.LookupGroup(fs.group)
		if err != nil {
			if g, err = user.LookupGroupId(fs.group); err != nil {
				return fmt.Errorf("-g %s: unknown group", fs.group)
			}
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if gid >= 0 && gid != os.Getgid() {
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return fmt.Errorf("-g %s: %w", fs.group, err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("cannot switch to group %d: %w", gid, err)
		}
	}
	if uid >= 0 && uid != os.Getuid() {
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("cannot switch to user %s: %w", fs.user, err)
		}
	}
	return nil
}

// background runs goswitch again as a background process in its own session and waits until it
// reports ready (or exits), as FreeSWITCH's -ncwait: the exit code tells the service manager
// whether the switch started. It returns the exit code for this (the foreground) process.
func (fs *fsStart) background(stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "goswitch: -ncwait:", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(stderr, "goswitch: -ncwait:", err)
		return 1
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), ncwaitEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		fmt.Fprintln(stderr, "goswitch: -ncwait:", err)
		return 1
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if strings.TrimSpace(line) == "ready" {
		fmt.Fprintf(stdout, "goswitch ready, running in the background as pid %d\n", cmd.Process.Pid)
		_ = cmd.Process.Release()
		return 0
	}
	err = cmd.Wait()
	fmt.Fprintf(stderr, "goswitch: failed to start in the background (%v); see the log\n", err)
	return 1
}

// started tells a waiting -ncwait parent that the switch is ready and writes FreeSWITCH's pid
// file name next to goswitch's, for service units that name it. The returned function removes it.
func (fs *fsStart) started(runDir string) func() {
	if fs.ready == nil {
		return func() {}
	}
	pid := ""
	if runDir != "" {
		pid = filepath.Join(runDir, "freeswitch.pid")
		_ = os.WriteFile(pid, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
	}
	_, _ = fs.ready.WriteString("ready\n")
	fs.ready.Close()
	return func() {
		if pid != "" {
			_ = os.Remove(pid)
		}
	}
}

// stopRunning is FreeSWITCH's -stop: SIGTERM to the pid in <run_dir>/goswitch.pid (or
// freeswitch.pid); SIGTERM makes goswitch drain its calls and exit.
func stopRunning(runDir string, stdout, stderr io.Writer) int {
	for _, name := range []string{"goswitch.pid", "freeswitch.pid"} {
		b, err := os.ReadFile(filepath.Join(runDir, name))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			fmt.Fprintf(stderr, "goswitch: -stop: pid %d: %v\n", pid, err)
			return 1
		}
		fmt.Fprintf(stdout, "goswitch: sent SIGTERM to pid %d\n", pid)
		return 0
	}
	fmt.Fprintf(stderr, "goswitch: -stop: no pid file in %s\n", runDir)
	return 1
}
