package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core/esl/wire"
	"github.com/goswitch/goswitch/core/logging"
)

func connect(o options, stderr io.Writer) (*wire.Client, error) {
	addr := net.JoinHostPort(o.host, o.port)
	attempts := 1
	if o.retry {
		attempts = 30
	}
	var err error
	for i := 0; i < attempts; i++ {
		var c *wire.Client
		if c, err = wire.Dial(addr, o.user, o.password, o.connectTimeout); err == nil {
			return c, nil
		}
		if err == wire.ErrAuth {
			break
		}
		if i+1 < attempts {
			fmt.Fprintf(stderr, "Error Connecting [%v], retrying\n", err)
			time.Sleep(time.Second)
		}
	}
	return nil, err
}

// apiCall runs a console line as fs_cli does: `api <line>` with `console_execute: true`.
func apiCall(c *wire.Client, line string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		return c.API(line)
	}
	type res struct {
		out string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		out, err := c.API(line)
		ch <- res{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-time.After(timeout):
		return "", fmt.Errorf("timeout waiting for reply")
	}
}

// execute is -x: run each command, print its output and exit.
func execute(o options, stdout, stderr io.Writer) int {
	c, err := connect(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "Error Connecting [%v]\n", err)
		return 1
	}
	defer c.Close()
	for _, cmd := range o.exec {
		out, err := apiCall(c, cmd, o.timeout)
		if err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", out)
	}
	return 0
}

// console is an interactive session.
type console struct {
	o      options
	c      *wire.Client
	out    io.Writer
	ed     *editor // nil in batch mode
	outMu  sync.Mutex
	uuid   string // /uuid filter on log User-Data
	filter string // /logfilter
	prompt string
	color  bool
}

// print writes text above the prompt, redrawing the line being edited.
func (cs *console) print(s string) {
	cs.outMu.Lock()
	defer cs.outMu.Unlock()
	if cs.ed != nil {
		cs.ed.clear()
	}
	io.WriteString(cs.out, s)
	if cs.ed != nil {
		cs.ed.redraw()
	}
}

func interactive(o options, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := connect(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "Error Connecting [%v]\n", err)
		return 1
	}
	cs := &console{o: o, c: c, out: stdout}
	f, isFile := stdin.(*os.File)
	tty := isFile && isTerminal(f) && !o.batch
	cs.color = tty && !o.noColor
	cs.prompt = "goswitch@" + cs.switchname() + "> "

	// One line source for the whole run, so a reconnect (-R) does not start a second reader.
	lines := make(chan string)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if tty {
		if ed, err := newEditor(f, cs.out, cs.prompt, o.history, &cs.outMu); err == nil {
			cs.ed = ed
			ed.complete = cs.complete
			ed.fnkey = func(n int) string { return fnKeys[n] }
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		if cs.ed != nil {
			for {
				l, err := cs.ed.readLine(stop)
				if err != nil {
					return
				}
				select {
				case lines <- l:
				case <-stop:
					return
				}
			}
		}
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		if cs.ed != nil {
			wg.Wait() // the editor's reads time out every 100 ms; a plain stdin read cannot be interrupted
			cs.ed.close()
		}
	}()
	for {
		again := cs.session(lines)
		cs.c.Close()
		if !again || !o.reconnect {
			return 0
		}
		cs.print("Disconnected, reconnecting...\n")
		for {
			time.Sleep(time.Second)
			if cs.c, err = wire.Dial(net.JoinHostPort(o.host, o.port), o.user, o.password, o.connectTimeout); err == nil {
				break
			}
		}
	}
}

func (cs *console) switchname() string {
	name, _ := cs.c.API("switchname")
	if name == "" || strings.HasPrefix(name, "-ERR") {
		name, _ = cs.c.API("hostname")
	}
	return strings.TrimSpace(name)
}

// session runs one connection until /quit (false) or a disconnect (true).
func (cs *console) session(lines <-chan string) bool {
	if !cs.o.quiet {
		lvl := cs.o.loglevel
		if lvl == "" {
			lvl = "debug"
		}
		_, _ = cs.c.Send("log " + lvl)
	}
	cs.print(banner + "GS CLI Ready.\nenter /help for a list of commands\n")
	for {
		select {
		case fr, ok := <-cs.c.Frames():
			if !ok || cs.frame(fr) {
				return true
			}
		case l, ok := <-lines:
			if !ok || cs.line(l) {
				return false
			}
		}
	}
}

const banner = `
 _____  _____  ______    _____   _       _____
|  __ \/ ____|/ ____ \  / ____| | |     |_   _|
| |  \/ (___  | |  | | | |      | |       | |
| | __ \___ \ | |  | | | |      | |       | |
| |_\ \____) || |__| | | |____  | |____  _| |_
 \____/_____/  \____/   \_____| |______||_____|

`

var fnKeys = map[int]string{1: "help", 2: "status", 3: "show channels", 4: "show calls", 5: "sofia status",
	6: "reloadxml", 7: "/log console", 8: "/log debug", 9: "sofia status profile internal",
	10: "fsctl pause", 11: "fsctl resume", 12: "version"}

// frame prints a server frame; it reports true when the server said goodbye.
func (cs *console) frame(f *wire.Frame) bool {
	switch f.Type() {
	case "log/data":
		uuid := f.Headers.Get("User-Data")
		if cs.uuid != "" && uuid != cs.uuid {
			return false
		}
		if cs.filter != "" && !strings.Contains(f.Body, cs.filter) {
			return false
		}
		lvl, _ := strconv.Atoi(f.Headers.Get("Log-Level"))
		text := f.Body
		if uuid != "" {
			text = uuid + " " + text
		}
		if cs.color {
			text = logging.Color(lvl) + strings.TrimSuffix(text, "\n") + logging.ColorReset + "\n"
		}
		cs.print(text)
	case "text/disconnect-notice":
		cs.print(f.Body)
		return true
	case "text/event-plain":
		cs.print("RECV EVENT\n" + f.Body + "\n")
	case "text/event-json", "text/event-xml":
		cs.print("RECV EVENT\n" + f.Body + "\n")
	}
	return false
}

const help = `Command                    Description
-----------------------------------------------
/help                      Help
/exit, /quit, /bye, ...    Exit the program.
/event, /noevents, /nixevent Event commands.
/log, /nolog               Log commands.
/uuid                      Filter logs for a single call uuid
/filter                    Filter commands.
/logfilter                 Filter Log for a single string.
/debug [0-7]               Set debug level.

`

// line runs one typed line; it reports true to quit.
func (cs *console) line(l string) bool {
	l = strings.TrimSpace(l)
	if l == "" {
		return false
	}
	if l[0] == '/' || l == "..." {
		cmd, arg, _ := strings.Cut(strings.TrimPrefix(l, "/"), " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToLower(cmd) {
		case "exit", "quit", "bye", "..", "...":
			return true
		case "help":
			cs.print(help)
		case "uuid":
			cs.uuid = arg
			cs.print("UUID filtering " + map[bool]string{true: "enabled", false: "disabled"}[arg != ""] + "\n")
		case "logfilter":
			cs.filter = arg
			cs.print("Logfilter " + map[bool]string{true: "enabled", false: "disabled"}[arg != ""] + "\n")
		case "debug":
			n, _ := strconv.Atoi(arg)
			cs.o.debug = n
			cs.print(fmt.Sprintf("+OK debug level %d\n", n))
		case "event", "noevents", "nixevent", "log", "nolog", "filter":
			f, err := cs.c.Send(strings.TrimSpace(cmd + " " + arg))
			if err != nil {
				cs.print("Error: " + err.Error() + "\n")
				return false
			}
			cs.print(f.ReplyText() + "\n\n")
		default:
			cs.print("Unknown command [" + l + "]\n")
		}
		return false
	}
	out, err := apiCall(cs.c, l, cs.o.timeout)
	if err != nil {
		cs.print("Error: " + err.Error() + "\n")
		return false
	}
	cs.print(out)
	if f := strings.Fields(l); len(f) >= 3 && f[0] == "console" && f[1] == "loglevel" {
		_, _ = cs.c.Send("log " + f[2])
	}
	return false
}

// complete asks the server (console_complete) and returns how many characters before the cursor
// to replace and with what; candidates, when several, are printed.
func (cs *console) complete(line string, pos int) (int, string) {
	out, err := cs.c.API("console_complete c=" + strconv.Itoa(pos) + ";" + line)
	if err != nil {
		return 0, ""
	}
	i := strings.LastIndex(out, "write=")
	list := out
	if i >= 0 {
		list = out[:i]
	}
	if strings.TrimSpace(list) != "" && (i < 0 || !strings.HasSuffix(out, " ")) {
		cs.print(strings.TrimLeft(list, "\n"))
	}
	if i < 0 {
		return 0, ""
	}
	n, text, ok := strings.Cut(out[i+len("write="):], ":")
	if !ok {
		return 0, ""
	}
	del, _ := strconv.Atoi(n)
	return del, text
}
