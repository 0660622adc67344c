package l16

import (
	"testing"

	"github.com/goswitch/goswitch/core/media"
)

func TestRoundTripAndGolden(t *testing.T) {
	for _, r := range Rates {
		c, ok := media.LookupCodec("L16", r, 1)
		if !ok {
			t.Fatalf("L16/%d not registered", r)
		}
		pcm := []int16{0, 1, -1, 32767, -32768, 258}
		b := make([]byte, 12)
		n, err := c.NewEncoder().Encode(b, pcm)
		if err != nil || n != 12 {
			t.Fatal(n, err)
		}
		if b[2] != 0 || b[3] != 1 || b[4] != 0xff || b[10] != 1 || b[11] != 2 {
			t.Fatalf("not big-endian: % x", b)
		}
		out := make([]int16, 6)
		if n, _ := c.NewDecoder().Decode(out, b); n != 6 {
			t.Fatal(n)
		}
		for i := range pcm {
			if out[i] != pcm[i] {
				t.Fatalf("%v != %v", out, pcm)
			}
		}
	}
}
