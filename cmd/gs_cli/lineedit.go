package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"golang.org/x/sys/unix"
)

func isTerminal(f *os.File) bool { return isatty.IsTerminal(f.Fd()) }

// editor is a small emacs-style line editor (what fs_cli gets from libedit): cursor movement,
// history with ~/.gs_cli_history, tab completion through the server, F1-F12 shortcuts.
type editor struct {
	in       *os.File
	out      io.Writer
	prompt   string
	histPath string
	fd       int
	old      *unix.Termios

	mu       *sync.Mutex // the console's output mutex: held while the line is drawn or changed
	buf      []rune
	pos      int
	active   bool
	hist     []string
	hidx     int
	complete func(line string, pos int) (int, string)
	fnkey    func(int) string

	keys chan byte
	done chan struct{}
	wg   sync.WaitGroup
}

const maxHistory = 800

func newEditor(in *os.File, out io.Writer, prompt, histPath string, mu *sync.Mutex) (*editor, error) {
	fd := int(in.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.ICRNL | unix.IXON | unix.INLCR | unix.IGNCR
	raw.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cc[unix.VMIN] = 0
	raw.Cc[unix.VTIME] = 1 // reads return every 100 ms so the reader can stop
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	e := &editor{in: in, out: out, prompt: prompt, histPath: histPath, fd: fd, old: old, mu: mu,
		keys: make(chan byte, 256), done: make(chan struct{})}
	e.loadHistory()
	e.wg.Add(1)
	go e.read()
	return e, nil
}

func (e *editor) read() {
	defer e.wg.Done()
	defer close(e.keys)
	b := make([]byte, 64)
	for {
		select {
		case <-e.done:
			return
		default:
		}
		n, err := e.in.Read(b)
		if err != nil && !errors.Is(err, io.EOF) {
			return
		}
		for _, c := range b[:n] {
			select {
			case e.keys <- c:
			case <-e.done:
				return
			}
		}
	}
}

// close restores the terminal and stops the reader.
func (e *editor) close() {
	select {
	case <-e.done:
		return
	default:
	}
	close(e.done)
	e.wg.Wait()
	_ = unix.IoctlSetTermios(e.fd, unix.TCSETS, e.old)
}

func (e *editor) loadHistory() {
	if e.histPath == "" {
		return
	}
	f, err := os.Open(e.histPath)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			e.hist = append(e.hist, l)
		}
	}
	if len(e.hist) > maxHistory {
		e.hist = e.hist[len(e.hist)-maxHistory:]
	}
}

func (e *editor) addHistory(l string) {
	if l == "" || (len(e.hist) > 0 && e.hist[len(e.hist)-1] == l) {
		return
	}
	e.hist = append(e.hist, l)
	if e.histPath != "" {
		if f, err := os.OpenFile(e.histPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			fmt.Fprintln(f, l)
			f.Close()
		}
	}
}

// clear erases the prompt line; the caller holds mu.
func (e *editor) clear() {
	if e.active {
		io.WriteString(e.out, "\r\x1b[K")
	}
}

// redraw draws the prompt and the line with the cursor in place; the caller holds mu.
func (e *editor) redraw() {
	if !e.active {
		return
	}
	s := "\r\x1b[K" + e.prompt + string(e.buf)
	if back := len(e.buf) - e.pos; back > 0 {
		s += fmt.Sprintf("\x1b[%dD", back)
	}
	io.WriteString(e.out, s)
}

func (e *editor) set(s string) {
	e.buf = []rune(s)
	e.pos = len(e.buf)
}

// next returns the next key byte, or false when waiting should stop.
func (e *editor) next(stop <-chan struct{}, wait time.Duration) (byte, bool) {
	var t <-chan time.Time
	if wait > 0 {
		tm := time.NewTimer(wait)
		defer tm.Stop()
		t = tm.C
	}
	select {
	case c, ok := <-e.keys:
		return c, ok
	case <-stop:
		return 0, false
	case <-t:
		return 0, false
	}
}

// readLine edits one line. io.EOF means stop was closed, the input ended or Ctrl-D was typed on
// an empty line.
func (e *editor) readLine(stop <-chan struct{}) (string, error) {
	e.mu.Lock()
	e.buf, e.pos, e.hidx, e.active = nil, 0, len(e.hist), true
	e.redraw()
	e.mu.Unlock()
	for {
		c, ok := e.next(stop, 0)
		if !ok {
			e.mu.Lock()
			e.active = false
			e.mu.Unlock()
			return "", io.EOF
		}
		if c == '\t' && e.complete != nil {
			e.mu.Lock()
			line, pos := string(e.buf), len(string(e.buf[:e.pos]))
			e.mu.Unlock()
			del, text := e.complete(line, pos)
			e.mu.Lock()
			if text != "" {
				if del > e.pos {
					del = e.pos
				}
				ins := []rune(text)
				nb := append(append(append([]rune{}, e.buf[:e.pos-del]...), ins...), e.buf[e.pos:]...)
				e.pos = e.pos - del + len(ins)
				e.buf = nb
			}
			e.redraw()
			e.mu.Unlock()
			continue
		}
		e.mu.Lock()
		line, done, quit := e.key(c, stop)
		if done {
			e.active = false
			io.WriteString(e.out, "\n")
		}
		e.mu.Unlock()
		if quit {
			return "", io.EOF
		}
		if done {
			e.addHistory(strings.TrimSpace(line))
			return line, nil
		}
	}
}

// key applies one key; the caller holds mu. done means Enter (or an F-key command) produced
// line; quit means Ctrl-D on an empty line.
func (e *editor) key(c byte, stop <-chan struct{}) (line string, done, quit bool) {
	switch c {
	case '\r', '\n':
		e.pos = len(e.buf)
		e.redraw()
		return string(e.buf), true, false
	case 1: // ^A
		e.pos = 0
	case 5: // ^E
		e.pos = len(e.buf)
	case 2: // ^B
		if e.pos > 0 {
			e.pos--
		}
	case 6: // ^F
		if e.pos < len(e.buf) {
			e.pos++
		}
	case 3: // ^C clears the line
		e.buf, e.pos = nil, 0
	case 4: // ^D
		if len(e.buf) == 0 {
			e.active = false
			io.WriteString(e.out, "\n")
			return "", false, true
		}
		if e.pos < len(e.buf) {
			e.buf = append(e.buf[:e.pos], e.buf[e.pos+1:]...)
		}
	case 11: // ^K
		e.buf = e.buf[:e.pos]
	case 21: // ^U
		e.buf = append([]rune{}, e.buf[e.pos:]...)
		e.pos = 0
	case 23: // ^W
		i := e.pos
		for i > 0 && e.buf[i-1] == ' ' {
			i--
		}
		for i > 0 && e.buf[i-1] != ' ' {
			i--
		}
		e.buf = append(e.buf[:i], e.buf[e.pos:]...)
		e.pos = i
	case 12: // ^L
		io.WriteString(e.out, "\x1b[H\x1b[2J")
	case 127, 8:
		if e.pos > 0 {
			e.buf = append(e.buf[:e.pos-1], e.buf[e.pos:]...)
			e.pos--
		}
	case 16: // ^P
		e.history(-1)
	case 14: // ^N
		e.history(1)
	case 27:
		return e.escape(stop)
	default:
		if c >= 0x20 {
			r := rune(c)
			if c >= 0x80 { // UTF-8: collect the continuation bytes
				b := []byte{c}
				for n := utf8Len(c) - 1; n > 0; n-- {
					x, ok := e.next(stop, 50*time.Millisecond)
					if !ok {
						break
					}
					b = append(b, x)
				}
				r = []rune(string(b))[0]
			}
			e.buf = append(e.buf[:e.pos], append([]rune{r}, e.buf[e.pos:]...)...)
			e.pos++
		}
	}
	e.redraw()
	return "", false, false
}

func utf8Len(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	case c >= 0xC0:
		return 2
	}
	return 1
}

func (e *editor) history(dir int) {
	n := e.hidx + dir
	if n < 0 || n > len(e.hist) {
		return
	}
	e.hidx = n
	if n == len(e.hist) {
		e.set("")
		return
	}
	e.set(e.hist[n])
}

// escape decodes arrows, Home/End/Delete and F1-F12 (xterm and linux console forms).
func (e *editor) escape(stop <-chan struct{}) (string, bool, bool) {
	c1, ok := e.next(stop, 50*time.Millisecond)
	if !ok {
		return "", false, false
	}
	seq := []byte{c1}
	if c1 == '[' || c1 == 'O' {
		for {
			c, ok := e.next(stop, 50*time.Millisecond)
			if !ok {
				break
			}
			seq = append(seq, c)
			if c >= 0x40 && c <= 0x7e {
				break
			}
		}
	}
	fn := 0
	switch string(seq) {
	case "[A", "OA":
		e.history(-1)
	case "[B", "OB":
		e.history(1)
	case "[C", "OC":
		if e.pos < len(e.buf) {
			e.pos++
		}
	case "[D", "OD":
		if e.pos > 0 {
			e.pos--
		}
	case "[H", "OH", "[1~":
		e.pos = 0
	case "[F", "OF", "[4~":
		e.pos = len(e.buf)
	case "[3~":
		if e.pos < len(e.buf) {
			e.buf = append(e.buf[:e.pos], e.buf[e.pos+1:]...)
		}
	case "OP", "[11~":
		fn = 1
	case "OQ", "[12~":
		fn = 2
	case "OR", "[13~":
		fn = 3
	case "OS", "[14~":
		fn = 4
	case "[15~":
		fn = 5
	case "[17~":
		fn = 6
	case "[18~":
		fn = 7
	case "[19~":
		fn = 8
	case "[20~":
		fn = 9
	case "[21~":
		fn = 10
	case "[23~":
		fn = 11
	case "[24~":
		fn = 12
	}
	if fn > 0 && e.fnkey != nil {
		if cmd := e.fnkey(fn); cmd != "" {
			e.set(cmd)
			e.redraw()
			return cmd, true, false
		}
	}
	e.redraw()
	return "", false, false
}
