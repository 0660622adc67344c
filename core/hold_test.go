package core_test

import (
	"testing"

	"github.com/goswitch/goswitch/core"
)

// TestHoldMusicLookup: temp_hold_music, then hold_music (channel, then the global), expanded,
// then FreeSWITCH's built-in local_stream://moh.
func TestHoldMusicLookup(t *testing.T) {
	h := newHost(t)
	tests := []struct {
		name   string
		vars   [][2]string
		global string
		want   string
	}{
		{"nothing set", nil, "", "local_stream://moh"},
		{"global", nil, "local_stream://jazz", "local_stream://jazz"},
		{"channel over global", [][2]string{{"hold_music", "silence"}}, "local_stream://jazz", "silence"},
		{"temp over hold", [][2]string{{"hold_music", "a.wav"}, {"temp_hold_music", "b.wav"}}, "", "b.wav"},
		{"expanded", [][2]string{{"moh_dir", "/music"}, {"hold_music", "${moh_dir}/x.wav"}}, "", "/music/x.wav"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.SetGlobal("hold_music", tc.global)
			s := core.NewSession(h, core.SessionOptions{Name: "test/hold", Vars: tc.vars})
			if got := s.HoldMusic(); got != tc.want {
				t.Errorf("HoldMusic() = %q, want %q", got, tc.want)
			}
		})
	}
	h.SetGlobal("hold_music", "")
}
