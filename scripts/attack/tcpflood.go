package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// tcpFlood is attack 2: a TCP connection flood, then a fresh source checks TCP still answers.
func tcpFlood(h netip.Addr) string {
	dst := netip.AddrPortFrom(h, uint16(*internal)).String()
	exe, _ := os.Executable()
	// Two children of half the connections each: one process alone would run out of its own
	// file descriptors before goswitch.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type child struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
	}
	var kids []child
	srcs := []string{"127.0.0.5", "127.0.0.9"}
	for i, src := range srcs {
		n := *conns / len(srcs)
		if i == 0 {
			n += *conns % len(srcs)
		}
		cmd := exec.CommandContext(ctx, exe, "-flood-child", dst, "-flood-src", src, "-flood-n", strconv.Itoa(n))
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return line("2", "tcp-conn-flood", "-", "cannot start flood child: "+err.Error(), false)
		}
		kids = append(kids, child{cmd, in, bufio.NewReader(out)})
	}
	opened, refusedAt := 0, []string{}
	for _, k := range kids {
		l, _ := k.out.ReadString('\n')
		f := strings.Fields(l)
		if len(f) >= 1 {
			n, _ := strconv.Atoi(f[0])
			opened += n
		}
		if len(f) > 1 {
			refusedAt = append(refusedAt, strings.Join(f[1:], " "))
		}
	}
	during := optionsTCP("127.0.0.2", dst)
	for _, k := range kids {
		k.in.Close()
		k.cmd.Wait()
	}
	time.Sleep(500 * time.Millisecond)
	after := optionsTCP("127.0.0.2", dst)
	stopped := ""
	if len(refusedAt) > 0 {
		stopped = " (stopped: " + strings.Join(refusedAt, "; ") + ")"
	}
	return line("2", "tcp-conn-flood", fmt.Sprintf("%d TCP connections to %s from 127.0.0.5/.9, held", *conns, dst),
		fmt.Sprintf("%d opened%s; OPTIONS over a fresh TCP connection from 127.0.0.2: during flood %s, after %s", opened, stopped, during, after),
		strings.HasPrefix(during, "200") && strings.HasPrefix(after, "200"))
}

func floodChild(dst, src string, n int) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
	var cs []net.Conn
	why := ""
	end := time.Now().Add(25 * time.Second)
	fails := 0
	for len(cs) < n && time.Now().Before(end) {
		c, err := d.Dial("tcp", dst)
		if err != nil {
			fails++
			if fails >= 3 {
				why = fmt.Sprintf("after %d: %v", len(cs), err)
				break
			}
			continue
		}
		cs = append(cs, c)
	}
	fmt.Println(len(cs), why)
	io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin
	for _, c := range cs {
		c.Close()
	}
}

func optionsTCP(src, dst string) string {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", dst)
	if err != nil {
		return "connect failed (" + shortErr(err) + ")"
	}
	defer c.Close()
	l := c.LocalAddr().String()
	id := "tcp-" + rnd()
	fmt.Fprintf(c, "OPTIONS sip:%s;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:probe@attack>;tag=%s\r\n"+
		"To: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", dst, l, rnd(), rnd(), dst, id)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	st, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "no answer (" + shortErr(err) + ")"
	}
	return strings.TrimPrefix(strings.TrimSpace(st), "SIP/2.0 ")
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
