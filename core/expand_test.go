package core

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"a": "hello", "b": "world", "name": "a", "num": "5551234", "rec": "${a}-${b}",
		"arr": "ARRAY::one|:two|:three", "self": "${self}x",
	}
	globals := map[string]string{"domain": "example.com", "a": "global-a", "g": "G"}
	x := Expander{
		Var: func(n string) (string, bool) {
			if v, ok := vars[n]; ok {
				return v, true
			}
			v, ok := globals[n]
			return v, ok
		},
		Global: func(n string) (string, bool) { v, ok := globals[n]; return v, ok },
		API: func(cmd, args string) string {
			if cmd == "upper" {
				return strings.ToUpper(args)
			}
			return "[" + cmd + ":" + args + "]"
		},
	}
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"${a} ${b}", "hello world"},
		{"${missing}", ""},
		{"${g}", "G"},                                    // falls back to globals
		{"$${domain}", "example.com"},                    // global syntax
		{"$${a}", "global-a"},                            // $$ never reads channel vars
		{"${num:3}", "1234"},                             // offset
		{"${num:0:3}", "555"},                            // offset+length
		{"${num:-4}", "1234"},                            // negative offset
		{"${num:-4:2}", "12"},                            // negative offset + length
		{"${num:20}", ""},                                // past the end
		{"${${name}}", "hello"},                          // nested name
		{"${rec}", "hello-world"},                        // values expand recursively
		{"${upper(${a})}", "HELLO"},                      // api(args) with expanded args
		{"${upper hi there}", "HI THERE"},                // api with space form
		{"${strftime(%Y-%m-%d)}", "[strftime:%Y-%m-%d]"}, // parenthesised args kept whole
		{`\${a}`, "${a}"},                                // escape
		{"cost $5", "cost $5"},                           // lone dollar
		{"${arr[1]}", "two"},                             // array element
		{"${unterminated", "${unterminated"},
		{"${self}", strings.Repeat("x", 0)}, // self reference stops, does not hang
	}
	for _, tc := range cases {
		got := x.Expand(tc.in)
		if tc.in == "${self}" {
			if !strings.HasSuffix(got, "x") {
				t.Errorf("self-reference: got %q", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	x := Expander{Var: func(n string) (string, bool) { return "1000", true }}
	b.ReportAllocs()
	for b.Loop() {
		x.Expand("user/${dialed_extension}@${domain_name}")
	}
}
