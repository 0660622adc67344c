package audio

import (
	"testing"

	"go.uber.org/goleak"

	_ "github.com/goswitch/goswitch/codecs/g711" // A-law and u-law WAV files use the registry's G.711
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
