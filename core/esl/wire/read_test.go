package wire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadMessageAndFrame(t *testing.T) {
	big := "Content-Length: 99999999\n\n"
	for _, tc := range []struct {
		name, in string
		command  bool
		want     string // command|headers|body, or "err:..." for an error containing it
	}{
		{"command", "\n\napi status\nX: 1\n\n", true, "api status|X=1|"},
		{"command with body", "sendevent CUSTOM\r\nContent-Length: 2\r\n\r\nhi", true, "sendevent CUSTOM|Content-Length=2|hi"},
		{"command at EOF", "exit", true, "exit||"},
		{"frame", "\nContent-Type: auth/request\n\n", false, "|Content-Type=auth/request|"},
		{"frame body", "Content-Type: api/response\nContent-Length: 3\n\n+OK", false, "|Content-Type=api/response,Content-Length=3|+OK"},
		{"frame cut", "Content-Type: api/response", false, "err:EOF"},
		{"bad length", "x\nContent-Length: -1\n\n", true, "err:invalid Content-Length"},
		{"too large", "x\n" + big, true, "err:too large"},
		{"too many headers", "x\n" + strings.Repeat("A: b\n", maxHeaderLines+1) + "\n", true, "err:too many header lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.in))
			var got string
			if tc.command {
				m, err := ReadMessage(r)
				got = render(err, m.cmdOrNil(), headersOf(m), bodyOf(m))
			} else {
				f, err := ReadFrame(r)
				var hs []string
				var body string
				if f != nil {
					for _, h := range f.Headers {
						hs = append(hs, h.Name+"="+h.Value)
					}
					body = f.Body
				}
				got = render(err, "", strings.Join(hs, ","), body)
			}
			if !strings.Contains(got, strings.TrimPrefix(tc.want, "err:")) || strings.HasPrefix(tc.want, "err:") != strings.HasPrefix(got, "err:") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ReadFrame(bufio.NewReader(strings.NewReader(""))); !errors.Is(err, io.EOF) {
		t.Errorf("empty frame: %v", err)
	}
}

func (m *Message) cmdOrNil() string {
	if m == nil {
		return ""
	}
	return m.Command
}

func headersOf(m *Message) string {
	if m == nil {
		return ""
	}
	var hs []string
	for _, h := range m.Headers {
		hs = append(hs, h.Name+"="+h.Value)
	}
	return strings.Join(hs, ",")
}

func bodyOf(m *Message) string {
	if m == nil {
		return ""
	}
	return m.Body
}

func render(err error, cmd, headers, body string) string {
	if err != nil {
		return "err:" + err.Error()
	}
	return cmd + "|" + headers + "|" + body
}
