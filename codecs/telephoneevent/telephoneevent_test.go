package telephoneevent

import (
	"testing"

	"github.com/goswitch/goswitch/core/media"
)

func TestRegisteredAndMapping(t *testing.T) {
	if _, ok := media.LookupCodec("telephone-event", 8000, 1); !ok {
		t.Fatal("not registered")
	}
	for i, d := range "0123456789*#ABCD" {
		if e, ok := Event(d); !ok || int(e) != i {
			t.Fatalf("%c -> %d", d, e)
		}
		if got, _ := Digit(uint8(i)); got != d {
			t.Fatalf("%d -> %c", i, got)
		}
	}
	if _, ok := Digit(16); ok {
		t.Fatal("flash mapped to a digit")
	}
	e, err := Parse([]byte{5, 0x80 | 10, 0x03, 0x20})
	if err != nil || e.Event != 5 || !e.End || e.Volume != 10 || e.Duration != 800 {
		t.Fatalf("%+v %v", e, err)
	}
}
