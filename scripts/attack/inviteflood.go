package main

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// inviteFlood is attack 6: unauthenticated INVITEs at -invite-rate for -invite-secs.
func inviteFlood(h netip.Addr) string {
	dst := netip.AddrPortFrom(h, uint16(*external))
	u, err := newUA("127.0.0.6", dst)
	if err != nil {
		return line("6", "invite-flood", "-", "cannot bind 127.0.0.6", false)
	}
	defer u.conn.Close()
	type result struct {
		code       int
		retryAfter bool
	}
	var mu sync.Mutex
	results := map[string]result{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			u.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, _, err := u.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			m := parse(string(buf[:n]))
			c := m.code()
			if c == 0 {
				u.answer(m, 200, "")
				continue
			}
			if c < 200 || !strings.HasSuffix(m.get("cseq"), "INVITE") {
				continue
			}
			id := m.get("call-id")
			mu.Lock()
			_, seen := results[id]
			results[id] = result{c, m.get("retry-after") != ""}
			mu.Unlock()
			// ACK the final response (hop by hop for non-2xx: the INVITE's branch); BYE a 2xx.
			via := m.get("via")
			ack := fmt.Sprintf("ACK sip:9196@%s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
				dst, via, m.get("from"), m.get("to"), id)
			u.send(ack)
			if c < 300 && !seen {
				u.send(fmt.Sprintf("BYE sip:9196@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
					dst, u.local(), rnd(), m.get("from"), m.get("to"), id))
			}
		}
	}()
	total := *rate * *secs
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	body := sdp("127.0.0.6")
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		ruri := "sip:9196@" + dst.String()
		u.send(u.request("INVITE", ruri, "<sip:flood@evil.example>;tag="+rnd(), "<"+ruri+">", fmt.Sprintf("flood-%d-%s", i, rnd()), 1, "", body))
	}
	sent := time.Since(start)
	<-done
	codes := map[int]int{}
	withRA, withoutRA := 0, 0
	mu.Lock()
	for _, r := range results {
		codes[r.code]++
		if r.code == 503 {
			if r.retryAfter {
				withRA++
			} else {
				withoutRA++
			}
		}
	}
	answered := len(results)
	mu.Unlock()
	var parts []string
	var ks []int
	for k := range codes {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%d x%d", k, codes[k]))
	}
	ch := "?"
	if out, ok := eslAPI("127.0.0.1", "show channels count"); ok {
		ch = strings.TrimSpace(out)
	}
	return line("6", "invite-flood", fmt.Sprintf("%d INVITEs to 9196 on external at %d/s (%.1fs)", total, *rate, sent.Seconds()),
		fmt.Sprintf("%s; 503 with Retry-After %d, without %d; unanswered %d; channels 3 s after: %s", strings.Join(parts, ", "), withRA, withoutRA, total-answered, ch),
		withoutRA == 0)
}
