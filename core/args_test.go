package core

import (
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want []string
	}{
		{"a b  c", 0, []string{"a", "b", "c"}},
		{"11 11 'tone_stream://%(10000,0,350,440)' digits 5000 #", 0, []string{"11", "11", "tone_stream://%(10000,0,350,440)", "digits", "5000", "#"}},
		{"1 b s execute_extension::dx XML features", 4, []string{"1", "b", "s", "execute_extension::dx XML features"}},
		{`a\ b c`, 0, []string{"a b", "c"}},
		{"", 0, nil},
		{"   ", 3, nil},
	}
	for _, tc := range cases {
		if got := SplitArgs(tc.in, tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
