package core

import (
	"reflect"
	"testing"
)

func TestVarsOrderAndUnset(t *testing.T) {
	v := NewVars()
	v.Set("b", "1")
	v.Set("a", "2")
	v.Set("b", "3") // keeps its first position
	v.Set("c", "")  // empty sets nothing
	want := [][2]string{{"b", "3"}, {"a", "2"}}
	if got := v.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	v.Set("b", "") // empty unsets, as FreeSWITCH's set does
	if _, ok := v.Get("b"); ok || v.Len() != 1 {
		t.Fatalf("b still set: %v", v.List())
	}
	c := v.Clone()
	c.Set("a", "x")
	if v.Value("a") != "2" {
		t.Fatal("Clone shares storage")
	}
	if !reflect.DeepEqual(c.Names(), []string{"a"}) {
		t.Fatalf("Names %v", c.Names())
	}
}

func TestTrue(t *testing.T) {
	for _, s := range []string{"true", "YES", "on", "1", "enabled", "t", "allow", "5"} {
		if !True(s) {
			t.Errorf("True(%q) = false", s)
		}
	}
	for _, s := range []string{"false", "no", "", "0", "off", "maybe"} {
		if True(s) {
			t.Errorf("True(%q) = true", s)
		}
	}
}
