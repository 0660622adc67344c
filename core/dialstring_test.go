package core

import (
	"reflect"
	"testing"
)

func TestParseDialString(t *testing.T) {
	ds, err := ParseDialString(`<ent=1>{a=1,b='x,y'}[leg=2]sofia/internal/1000@1.2.3.4,user/1001|{c=3}loopback/9196:_:error/user_busy`)
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Enterprise; !reflect.DeepEqual(got, DialVars{{"ent", "1"}}) {
		t.Errorf("enterprise vars %v", got)
	}
	if len(ds.Seqs) != 2 {
		t.Fatalf("want 2 enterprise parts, got %d", len(ds.Seqs))
	}
	s0 := ds.Seqs[0]
	if !reflect.DeepEqual(s0.Vars, DialVars{{"a", "1"}, {"b", "x,y"}}) {
		t.Errorf("{} vars %v", s0.Vars)
	}
	if len(s0.Groups) != 2 || len(s0.Groups[0].Legs) != 2 {
		t.Fatalf("groups %+v", s0.Groups)
	}
	l0 := s0.Groups[0].Legs[0]
	if l0.Endpoint != "sofia" || l0.Target != "internal/1000@1.2.3.4" || !reflect.DeepEqual(l0.Vars, DialVars{{"leg", "2"}}) {
		t.Errorf("leg 0 %+v", l0)
	}
	if s0.Groups[0].Legs[1].String() != "user/1001" {
		t.Errorf("leg 1 %+v", s0.Groups[0].Legs[1])
	}
	if g := s0.Groups[1]; !reflect.DeepEqual(g.Vars, DialVars{{"c", "3"}}) || g.Legs[0].String() != "loopback/9196" {
		t.Errorf("failover group %+v", g)
	}
	if ds.Seqs[1].Groups[0].Legs[0].String() != "error/user_busy" {
		t.Errorf("enterprise part 2 %+v", ds.Seqs[1])
	}
}

func TestParseDialStringDelimiterAndEmpty(t *testing.T) {
	// A vanilla directory dial-string after expansion with no verto contact: trailing empty leg.
	ds, err := ParseDialString(`{^^:sip_invite_domain=example.com:presence_id=1000@example.com}sofia/internal/sip:1000@127.0.0.1:5070;transport=udp,`)
	if err != nil {
		t.Fatal(err)
	}
	want := DialVars{{"sip_invite_domain", "example.com"}, {"presence_id", "1000@example.com"}}
	if !reflect.DeepEqual(ds.Seqs[0].Vars, want) {
		t.Errorf("vars %v", ds.Seqs[0].Vars)
	}
	if legs := ds.Seqs[0].Groups[0].Legs; len(legs) != 1 || legs[0].Target != "internal/sip:1000@127.0.0.1:5070;transport=udp" {
		t.Errorf("legs %+v", legs)
	}
	if _, err := ParseDialString("  "); err == nil {
		t.Error("empty dial string accepted")
	}
	if _, err := ParseDialString("{a=1"); err == nil {
		t.Error("unterminated block accepted")
	}
	ds, err = ParseDialString(`{a=one\,two}loopback/1`)
	if err != nil || ds.Seqs[0].Vars[0][1] != "one,two" {
		t.Errorf("escaped comma: %v %+v", err, ds)
	}
}

func FuzzParseDialString(f *testing.F) {
	for _, s := range []string{"user/1000", "{a=1}[b=2]sofia/internal/x@y,user/1|error/17:_:loopback/1", "<x=1>{^^:a=1:b=2}a/b", "{'", "[[[", "a|b,c:_:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseDialString(s)
		if err == nil && len(ds.Seqs) == 0 {
			t.Fatal("no error but no targets")
		}
	})
}
