package errorep

import (
	"testing"

	"github.com/goswitch/goswitch/core"
)

func TestCause(t *testing.T) {
	cases := map[string]core.Cause{
		"user_busy":           core.CauseUserBusy,
		"USER_NOT_REGISTERED": core.CauseUserNotRegistered,
		"17":                  core.CauseUserBusy,
		"NONE":                core.CauseDestinationOutOfOrder,
		"0":                   core.CauseDestinationOutOfOrder,
		"bogus":               core.CauseNormalClearing,
	}
	for in, want := range cases {
		if got := Cause(in); got != want {
			t.Errorf("error/%s = %s, want %s", in, got, want)
		}
	}
}
