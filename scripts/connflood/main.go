//go:build unix

// Command connflood shows whether a SIP TCP/TLS listener survives a connection flood: it opens
// -n connections from -src to -addr (optionally sending a partial header on each, slowloris
// style), reports how many the server still holds, probes with OPTIONS from -probe-src while the
// flood is held, releases the flood and probes again from the flooding source.
//
//	go run ./scripts/connflood -addr 127.0.0.1:5060 -n 20000
//	go run ./scripts/connflood -addr 127.0.0.1:5061 -tls -n 1000 -hold 15s   # never-handshaking TLS
//	go run ./scripts/connflood -addr 127.0.0.1:5060 -n 500 -partial -hold 25s # slowloris
//
// One process holds at most its RLIMIT_NOFILE of connections; -n is lowered to fit (and said so).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/internal/connflood"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5060", "listener to flood (host:port)")
	n := flag.Int("n", 20000, "connections to open")
	src := flag.String("src", "127.0.0.1", "source address of the flood")
	probeSrc := flag.String("probe-src", "127.0.0.2", "source address of the probe sent while the flood is held")
	useTLS := flag.Bool("tls", false, "probe with TLS (the flood itself never handshakes)")
	partial := flag.Bool("partial", false, "send a partial SIP header on each connection (slowloris)")
	hold := flag.Duration("hold", 2*time.Second, "how long to hold the flood before counting and releasing")
	workers := flag.Int("workers", 64, "parallel dialers")
	flag.Parse()

	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		if max := int(r.Cur) - 100; *n > max {
			fmt.Printf("RLIMIT_NOFILE %d: flooding with %d connections instead of %d\n", r.Cur, max, *n)
			*n = max
		}
	}
	var send []byte
	if *partial {
		send = []byte("OPTIONS sip:flood@" + *addr + " SIP/2.0\r\nVia: SIP/2.0/TCP " + *src + ";branch=z9hG4bKflood\r\n")
	}
	start := time.Now()
	f := connflood.Open(context.Background(), *addr, *src, *n, *workers, send)
	fmt.Printf("flood: %d connections from %s in %v (%d dials failed: reset at once by a refusing server, or timed out)\n",
		f.Opened()+f.Failed, *src, time.Since(start).Round(time.Millisecond), f.Failed)
	probe := func(from string) bool {
		t0 := time.Now()
		line, err := connflood.Probe(*addr, from, *useTLS, 5*time.Second)
		if err != nil {
			fmt.Printf("probe from %s: FAILED: %v\n", from, err)
			return false
		}
		fmt.Printf("probe from %s: %s in %v\n", from, line, time.Since(t0).Round(time.Millisecond))
		return true
	}
	ok := probe(*probeSrc)
	time.Sleep(*hold)
	fmt.Printf("after %v the server still holds %d of them\n", *hold, f.Held())
	f.Close()
	t0 := time.Now()
	recovered := false
	for time.Since(t0) < 10*time.Second {
		if _, err := connflood.Probe(*addr, *src, *useTLS, time.Second); err == nil {
			recovered = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if recovered {
		fmt.Printf("released: the flooding source %s is served again after %v\n", *src, time.Since(t0).Round(time.Millisecond))
	} else {
		fmt.Printf("released: the flooding source %s is NOT served 10 s after the flood ended\n", *src)
	}
	if !ok || !recovered {
		fmt.Println("RESULT: listener did not survive")
		os.Exit(1)
	}
	fmt.Println("RESULT: listener survived")
}
