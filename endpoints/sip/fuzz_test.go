package sip

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// FuzzUDPProfile throws arbitrary datagrams at a live profile over loopback UDP (seeded with the
// RFC 4475 messages and some garbage) and checks after each that the profile still answers an
// OPTIONS with 200; at the end the goroutines must settle. Without -fuzz it runs the seeds:
//
//	go test -run '^$' -fuzz FuzzUDPProfile -fuzztime 60s ./endpoints/sip
func FuzzUDPProfile(f *testing.F) {
	for _, tc := range tortureCases {
		f.Add(loadTorture(f, tc.name))
	}
	for _, s := range []string{
		"", "\r\n\r\n", "\x00\x01garbage\r\n\r\n", "INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n", "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKf\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: f\r\nCSeq: 1 OPTIONS\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	env := newEnv(f, envOpt{})
	dst := env.addr(f, "internal")
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	base := runtime.NumGoroutine()
	f.Cleanup(func() {
		if f.Failed() {
			return
		}
		// INVITE transactions answered with a 4xx wait for an ACK up to 64*T1; their timers are
		// not goroutines, so what is left must be close to where we started.
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base+20 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base+20 {
			f.Errorf("goroutines %d after fuzzing, %d before", n, base)
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 65000 {
			data = data[:65000]
		}
		if _, err := c.WriteToUDPAddrPort(data, dst); err != nil {
			t.Skip(err)
		}
		assertAlive(t, dst)
	})
}
