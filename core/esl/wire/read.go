// Package wire is the event socket's wire format and a minimal inbound client: the one reader of
// header blocks with a Content-Length body (commands a client sends, frames a server sends), and
// the Client gs_cli uses. It mirrors the framing of FreeSWITCH's mod_event_socket.c and
// libs/esl/src/esl.c. It imports only core/event, so a client links none of the switch; the
// server (core/esl) builds on it and keeps what it writes.
package wire

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/event"
)

// MaxBody bounds a Content-Length (FreeSWITCH: 16 MiB).
const MaxBody = 16 << 20

// maxHeaderLines bounds a header block so a peer cannot grow it without end.
const maxHeaderLines = 1024

// ErrBodyTooLarge is returned for a Content-Length above the limit.
var ErrBodyTooLarge = errors.New("esl: body too large")

// Message is one client command: the first line, the header lines that followed it and the body
// announced by Content-Length.
type Message struct {
	Command string
	Headers event.Headers
	Body    string
}

// ReadMessage reads one command. Leading blank lines are skipped, `\r` is tolerated.
func ReadMessage(r *bufio.Reader) (*Message, error) { return ReadMessageLimit(r, MaxBody) }

// ReadMessageLimit is ReadMessage with a smaller body bound (the server's before authentication).
func ReadMessageLimit(r *bufio.Reader, maxBody int) (*Message, error) {
	cmd, h, body, err := readBlock(r, true, maxBody)
	if err != nil {
		return nil, err
	}
	return &Message{Command: cmd, Headers: h, Body: body}, nil
}

// Frame is one server frame: its headers and the body announced by Content-Length.
type Frame struct {
	Headers event.Headers
	Body    string
}

// Type returns the Content-Type header.
func (f *Frame) Type() string { return f.Headers.Get("Content-Type") }

// ReplyText returns the Reply-Text header.
func (f *Frame) ReplyText() string { return f.Headers.Get("Reply-Text") }

// ReadFrame reads one server frame as ESL clients do.
func ReadFrame(r *bufio.Reader) (*Frame, error) {
	_, h, body, err := readBlock(r, false, MaxBody)
	if err != nil {
		return nil, err
	}
	return &Frame{Headers: h, Body: body}, nil
}

// readBlock reads blank lines (skipped), then, when command is set, a command line, then header
// lines up to an empty line, then the Content-Length body. A command that ends at EOF without
// its blank line is accepted (a client piping one command); a frame is not.
func readBlock(r *bufio.Reader, command bool, maxBody int) (cmd string, h event.Headers, body string, err error) {
	started := false
	for {
		line, rerr := r.ReadString('\n')
		if rerr != nil && (line == "" || rerr != io.EOF || !command) {
			return "", nil, "", rerr
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case !started && strings.TrimSpace(line) == "":
			if rerr != nil {
				return "", nil, "", rerr
			}
			continue
		case !started && command:
			cmd, started = strings.TrimSpace(line), true
		case line == "":
			rerr = io.EOF // end of the block
		default:
			started = true
			if len(h) >= maxHeaderLines {
				return "", nil, "", errors.New("esl: too many header lines")
			}
			name, value, _ := strings.Cut(line, ":")
			h = append(h, event.Header{Name: strings.TrimSpace(name), Value: strings.TrimLeft(value, " ")})
		}
		if rerr != nil {
			break
		}
	}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 {
			return "", nil, "", errors.New("esl: invalid Content-Length")
		}
		if n > maxBody {
			return "", nil, "", ErrBodyTooLarge
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", nil, "", err
		}
		body = string(buf)
	}
	return cmd, h, body, nil
}
