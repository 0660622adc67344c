package bracket

import "testing"

func TestEnd(t *testing.T) {
	for _, tc := range []struct {
		s    string
		open int
		mode Mode
		want int
	}{
		{"{a}", 0, Plain, 2},
		{"${a}", 1, Plain, 3},
		{"${a${b}c}d", 1, Plain, 8},
		{"{a", 0, Plain, -1},
		{"x{a}", 0, Plain, -1}, // s[open] is not a bracket
		{"{a}", 5, Plain, -1},  // out of range
		{"{a}", -1, Plain, -1}, // out of range
		{"[a=1]x", 0, Plain, 4},
		{"<a=1>x", 0, Plain, 4},
		{"(a(b))", 0, Plain, 5},
		{"{a=[x]}", 0, Plain, 6}, // other kinds do not count
		{"{a='}'}", 0, Plain, 4},
		{"{a='}'}", 0, Quoted, 6},
		{`{a=\}}`, 0, Plain, 4},
		{`{a=\}}`, 0, Quoted, 5},
		{"{a='x", 0, Quoted, -1},
		{"{a={b}}", 0, Quoted, 6},
	} {
		if got := End(tc.s, tc.open, tc.mode); got != tc.want {
			t.Errorf("End(%q, %d, %d) = %d, want %d", tc.s, tc.open, tc.mode, got, tc.want)
		}
	}
}
