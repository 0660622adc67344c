package core

import "testing"

func TestSilenceDivisor(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 0, "true": 0, "-1": -1, "-5": 400, "400": 400, " 20 ": 20} {
		if got := silenceDivisor(v); got != want {
			t.Errorf("silenceDivisor(%q) = %d, want %d", v, got, want)
		}
	}
}
