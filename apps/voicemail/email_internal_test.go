package voicemail

import (
	"testing"

	"github.com/goswitch/goswitch/core"
)

func TestFormatNumber(t *testing.T) {
	for in, want := range map[string]string{
		"12125551234": "1 (212) 555-1234", "+12125551234": "1 (212) 555-1234", "2125551234": "1 (212) 555-1234",
		"5551234": "5551234", "+4930123": "+4930123", "anonymous": "anonymous", "": "",
	} {
		if got := formatNumber(in); got != want {
			t.Errorf("formatNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

// Without templates mod_voicemail writes its own headers and a one-line body, and a message
// without attachment or typed body is not MIME.
func TestDefaultEmail(t *testing.T) {
	m := &Module{}
	msg := &Message{User: "1000", Domain: "example.com", CIDName: "Bob", CIDNumber: "5551212", Len: 42}
	x := &core.Expander{Var: func(name string) (string, bool) { return map[string]string{"voicemail_priority": "3"}[name], true }}
	got, err := composeEmail(m.headerString(x, "", msg), m.body(x, "", msg), "")
	if err != nil {
		t.Fatal(err)
	}
	want := "From: FreeSWITCH mod_voicemail <1000@example.com>\nSubject: Voicemail from Bob 5551212\nX-Priority: 3\n" +
		"X-Voicemail-Length: 42\n\n42 second Voicemail from Bob 5551212"
	if string(got) != want {
		t.Errorf("email\n got %q\nwant %q", got, want)
	}
}
