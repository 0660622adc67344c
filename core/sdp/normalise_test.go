package sdp

import (
	"bytes"
	"testing"
)

// normalise skips the rewrite only when the rewrite would change nothing.
func TestNormaliseFastPathAgrees(t *testing.T) {
	for _, in := range []string{
		"", "v=0\r\n", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n",
		"v=0\n", "v=0\r\n\r\ns=-\r\n", " v=0\r\n", "v=0 \r\n", "v=0\t\r\n", "v=0\r\r\n", "v=0", "v=0\r\ns=-",
		"\r\n", "a\r\n", "a=x\r\n\tb=y\r\n",
	} {
		got, want := normalise([]byte(in)), rewrite([]byte(in))
		if !bytes.Equal(got, want) {
			t.Errorf("normalise(%q) = %q, the rewrite gives %q", in, got, want)
		}
	}
}
