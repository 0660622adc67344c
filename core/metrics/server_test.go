package metrics

import (
	"errors"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true}, {"[::1]:8080", true}, {"localhost:0", true}, {"127.1.2.3:9", true},
		{"0.0.0.0:8080", false}, {":8080", false}, {"[::]:8080", false}, {"192.0.2.1:8080", false},
		{"example.com:80", false},
	} {
		err := checkLoopback(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", c.addr, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("checkLoopback(%q) = %v, not ErrNotLoopback", c.addr, err)
		}
	}
	if err := checkLoopback("nonsense"); err == nil || errors.Is(err, ErrNotLoopback) {
		t.Errorf("checkLoopback(nonsense) = %v", err)
	}
}

func TestDisabled(t *testing.T) {
	for addr, want := range map[string]bool{"": true, "off": true, "OFF": true, "127.0.0.1:8080": false} {
		if Disabled(addr) != want {
			t.Errorf("Disabled(%q) != %v", addr, want)
		}
	}
}

func TestListenRefusesPublicUnlessInsecure(t *testing.T) {
	if _, err := Listen(nil, "0.0.0.0:0", false, nil); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Listen(0.0.0.0:0) = %v, want ErrNotLoopback", err)
	}
	s, err := Listen(nil, "0.0.0.0:0", true, nil)
	if err != nil {
		t.Fatalf("Listen(0.0.0.0:0, insecure): %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
