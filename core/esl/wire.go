package esl

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/event"
)

// MaxBody bounds a command's Content-Length (FreeSWITCH: 16 MiB).
const MaxBody = 16 << 20

// maxHeaderLines bounds a command's header block so a client cannot grow it without end.
const maxHeaderLines = 1024

// ErrBodyTooLarge is returned for a Content-Length above MaxBody.
var ErrBodyTooLarge = errors.New("esl: body too large")

// Message is one client command: the first line, the header lines that followed it and the body
// announced by Content-Length.
type Message struct {
	Command string
	Headers event.Headers
	Body    string
}

// ReadMessage reads one command. Leading blank lines are skipped, `\r` is tolerated.
func ReadMessage(r *bufio.Reader) (*Message, error) { return readMessage(r, MaxBody) }

// preAuthMaxBody bounds bodies before authentication, so an unauthenticated peer cannot make the
// server allocate MaxBody per connection.
const preAuthMaxBody = 64 << 10

func readMessage(r *bufio.Reader, maxBody int) (*Message, error) {
	m := &Message{}
	lines := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil && (line == "" || err != io.EOF) {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if m.Command == "" {
			if strings.TrimSpace(line) == "" {
				if err != nil {
					return nil, err
				}
				continue
			}
			m.Command = strings.TrimSpace(line)
		} else if line == "" {
			break
		} else {
			lines++
			if lines > maxHeaderLines {
				return nil, errors.New("esl: too many header lines")
			}
			name, value, _ := strings.Cut(line, ":")
			m.Headers = append(m.Headers, event.Header{Name: strings.TrimSpace(name), Value: strings.TrimLeft(value, " ")})
		}
		if err != nil {
			break
		}
	}
	if cl := m.Headers.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 {
			return nil, errors.New("esl: invalid Content-Length")
		}
		if n > maxBody {
			return nil, ErrBodyTooLarge
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		m.Body = string(buf)
	}
	return m, nil
}

// Frames the server writes (mod_event_socket's exact texts).
const (
	authRequest    = "Content-Type: auth/request\n\n"
	rudeRejection  = "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
	disconnectText = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)

func appendReply(dst []byte, text string, extra ...event.Header) []byte {
	dst = append(dst, "Content-Type: command/reply\nReply-Text: "...)
	dst = append(dst, text...)
	dst = append(dst, '\n')
	for _, h := range extra {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

func appendAPIResponse(dst []byte, body string) []byte {
	dst = append(dst, "Content-Type: api/response\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// appendEventFrame wraps a serialised event: Content-Length first, then Content-Type.
func appendEventFrame(dst []byte, format string, e *event.Event, scratch []byte) ([]byte, []byte) {
	switch format {
	case "json":
		scratch = e.AppendJSON(scratch[:0])
	case "xml":
		scratch = e.AppendXML(scratch[:0])
	default:
		format = "plain"
		scratch = e.AppendPlain(scratch[:0])
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(scratch)), 10)
	dst = append(dst, "\nContent-Type: text/event-"...)
	dst = append(dst, format...)
	dst = append(dst, "\n\n"...)
	return append(dst, scratch...), scratch
}
