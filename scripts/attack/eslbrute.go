package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eslBrute is attack 4: an event-socket password brute force.
func eslBrute() string {
	var tries, closed, cracked atomic.Int64
	var firstClosed atomic.Int64
	firstClosed.Store(-1)
	end := time.Now().Add(time.Duration(*eslSecs) * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				switch eslTry("127.0.0.4", fmt.Sprintf("guess%d-%d", w, i), time.Until(end)) {
				case "closed":
					if closed.Add(1) == 1 {
						firstClosed.Store(tries.Load())
					}
					time.Sleep(10 * time.Millisecond)
				case "accepted":
					cracked.Add(1)
					tries.Add(1)
				case "invalid":
					tries.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	right := eslTry("127.0.0.4", *eslPass, 3*time.Second)
	other := eslTry("127.0.0.1", *eslPass, 3*time.Second)
	locked := ""
	if firstClosed.Load() >= 0 {
		locked = fmt.Sprintf("source closed at connect after %d tries (%d connections refused)", firstClosed.Load(), closed.Load())
	} else {
		locked = "never locked out"
	}
	rate := float64(tries.Load()) / float64(*eslSecs)
	return line("4", "esl-brute-force", fmt.Sprintf("8 parallel connect+auth loops from 127.0.0.4 to %s for %ds", *eslAddr, *eslSecs),
		fmt.Sprintf("%d wrong passwords answered (%.0f/s); %s; right password from 127.0.0.4 afterwards: %s; from 127.0.0.1: %s",
			tries.Load(), rate, locked, right, other),
		firstClosed.Load() >= 0 && firstClosed.Load() <= 20 && right != "accepted" && other == "accepted")
}

// eslTry connects from src and sends auth pass: "accepted", "invalid", "closed" (no banner) or "error".
func eslTry(src, pass string, d time.Duration) string {
	if d <= 0 {
		return "error"
	}
	d = 3 * time.Second
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: d}
	c, err := dl.Dial("tcp", *eslAddr)
	if err != nil {
		return "error"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	r := bufio.NewReader(c)
	l, err := r.ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "error"
	}
	if err != nil || !strings.Contains(l, "auth/request") {
		return "closed"
	}
	r.ReadString('\n')
	fmt.Fprintf(c, "auth %s\n\n", pass)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return "closed"
		}
		if strings.HasPrefix(l, "Reply-Text: ") {
			if strings.Contains(l, "+OK") {
				return "accepted"
			}
			return "invalid"
		}
	}
}

// eslAPI runs one api command over the event socket from src.
func eslAPI(src, cmd string) (string, bool) {
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := dl.Dial("tcp", *eslAddr)
	if err != nil {
		return "", false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	readFrame := func() (map[string]string, string, error) {
		h := map[string]string{}
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return nil, "", err
			}
			l = strings.TrimRight(l, "\n")
			if l == "" {
				break
			}
			k, v, _ := strings.Cut(l, ": ")
			h[k] = v
		}
		body := ""
		if n, _ := strconv.Atoi(h["Content-Length"]); n > 0 {
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, "", err
			}
			body = string(b)
		}
		return h, body, nil
	}
	if _, _, err := readFrame(); err != nil {
		return "", false
	}
	fmt.Fprintf(c, "auth %s\n\n", *eslPass)
	if h, _, err := readFrame(); err != nil || !strings.Contains(h["Reply-Text"], "+OK") {
		return "", false
	}
	fmt.Fprintf(c, "api %s\n\n", cmd)
	for {
		h, body, err := readFrame()
		if err != nil {
			return "", false
		}
		if h["Content-Type"] == "api/response" {
			return body, true
		}
	}
}
