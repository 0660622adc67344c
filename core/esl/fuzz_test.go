package esl_test

import (
	"bufio"
	"strings"
	"testing"

	"github.com/goswitch/goswitch/core/esl/wire"
)

// FuzzReadMessage feeds arbitrary client bytes to the command reader: it must never panic, and
// a body it returns must be exactly what Content-Length announced.
func FuzzReadMessage(f *testing.F) {
	for _, s := range []string{
		"auth ClueCon\n\n",
		"\n\napi status\r\nconsole_execute: true\r\n\r\n",
		"sendevent CUSTOM\nEvent-Subclass: a::b\nContent-Length: 5\n\nhello",
		"sendmsg\nContent-Length: -1\n\n",
		"x\nContent-Length: 99999999999\n\n",
		"event plain ALL",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReader(strings.NewReader(in))
		for i := 0; i < 8; i++ {
			m, err := wire.ReadMessage(r)
			if err != nil {
				return
			}
			if m.Command == "" {
				t.Fatal("empty command")
			}
			if len(m.Body) > wire.MaxBody {
				t.Fatal("body over limit")
			}
		}
	})
}

// FuzzReadFrame does the same for the client-side frame reader gs_cli uses.
func FuzzReadFrame(f *testing.F) {
	f.Add("Content-Type: auth/request\n\n")
	f.Add("Content-Type: api/response\nContent-Length: 3\n\n+OK")
	f.Add("Content-Length: x\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReader(strings.NewReader(in))
		for i := 0; i < 8; i++ {
			if _, err := wire.ReadFrame(r); err != nil {
				return
			}
		}
	})
}
