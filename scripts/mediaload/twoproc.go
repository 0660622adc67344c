package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// The parent (engine) and child (phones) talk over the child's stdin/stdout:
//
//	child:  "B <addr>" x N, "READY"      phone B sockets, where leg B must send
//	parent: "A <addr>" x N, "GO"         leg A sockets, where phone A must send
//	child:  "START"                      warm-up done, measuring
//	child:  "RESULT <received> <expected> <p50> <p99> <max>"

// relayEngine is the parent side.
func relayEngine() {
	self, _ := os.Executable()
	cmd := exec.Command(self, "-role", "phones", "-n", fmt.Sprint(*n), "-d", dur.String(), "-warm", warm.String())
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	out := bufio.NewScanner(outPipe)
	var phoneB []netip.AddrPort
	for out.Scan() && out.Text() != "READY" {
		if a, ok := strings.CutPrefix(out.Text(), "B "); ok {
			phoneB = append(phoneB, netip.MustParseAddrPort(a))
		}
	}
	engClk := media.NewSoftClock(*shards)
	defer engClk.Close()
	var closers []func()
	w := bufio.NewWriter(in)
	for i, dst := range phoneB {
		la, err := media.ListenRTP(lo, 0, media.RTPConfig{Clock: engClk, RTCPInterval: -1})
		if err != nil {
			log.Fatalf("stream %d: %v (raise ulimit -n?)", i, err)
		}
		lb, err := media.ListenRTP(lo, 0, media.RTPConfig{Clock: engClk, RTCPInterval: -1})
		if err != nil {
			log.Fatalf("stream %d: %v", i, err)
		}
		la.SetCodec(pcmu, 101)
		lb.SetCodec(pcmu, 101)
		la.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.AddrPort{}) // latching finds phone A
		lb.SetRemote(dst, netip.AddrPort{})
		stop, _ := media.Bridge(la, lb)
		closers = append(closers, func() { stop(); la.Close(); lb.Close() })
		fmt.Fprintf(w, "A %s\n", la.LocalAddr())
	}
	fmt.Fprintln(w, "GO")
	w.Flush()
	var c0 time.Duration
	var t0 time.Time
	for out.Scan() {
		line := out.Text()
		if line == "START" {
			startProfile()
			c0, t0 = cpuTime(), time.Now()
			continue
		}
		if r, ok := strings.CutPrefix(line, "RESULT "); ok {
			cpu, wall := cpuTime()-c0, time.Since(t0)
			stopProfile()
			var got, want uint64
			var q50, q99, qmx int64
			fmt.Sscan(r, &got, &want, &q50, &q99, &qmx)
			p50, p99, mx := time.Duration(q50), time.Duration(q99), time.Duration(qmx)
			fmt.Printf("engine: %d bridged streams, cpu=%.1f%% of one core = %.3f%% per stream, %.2f us per relayed packet\n",
				len(phoneB), 100*cpu.Seconds()/wall.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(len(phoneB)),
				float64(cpu.Nanoseconds())/1e3/max(1, float64(got)))
			fmt.Printf("phones: received %d of %d (%.1f%%), added jitter p50=%v p99=%v max=%v\n",
				got, want, 100*float64(got)/max(1, float64(want)), p50, p99, mx)
			break
		}
	}
	in.Close()
	cmd.Wait()
	for _, c := range closers {
		c()
	}
}

// phones is the child side: N senders paced by their own clock and N receivers.
func phones() {
	genClk := media.NewSoftClock(2)
	defer genClk.Close()
	var measure atomic.Bool
	h := &hist{}
	var wg sync.WaitGroup
	var recvs []*receiver
	out := bufio.NewWriter(os.Stdout)
	var senders []*receiver
	for range *n {
		pa, pb := udp(), udp()
		r := &receiver{conn: pb, measure: &measure, h: h}
		recvs = append(recvs, r)
		senders = append(senders, &receiver{conn: pa})
		wg.Add(1)
		go r.run(&wg)
		fmt.Fprintf(out, "B %s\n", addr(pb))
	}
	fmt.Fprintln(out, "READY")
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	var legA []netip.AddrPort
	for in.Scan() && in.Text() != "GO" {
		if a, ok := strings.CutPrefix(in.Text(), "A "); ok {
			legA = append(legA, netip.MustParseAddrPort(a))
		}
	}
	var cancels []func()
	for i, dst := range legA {
		conn := senders[i].conn
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		binary.BigEndian.PutUint32(pkt[8:], uint32(i+1))
		seq := uint16(0)
		cancels = append(cancels, genClk.Every(20*time.Millisecond, func(time.Time) {
			seq++
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
			binary.BigEndian.PutUint64(pkt[12:], uint64(time.Now().UnixNano()))
			_, _ = conn.WriteToUDPAddrPort(pkt, dst)
		}))
	}
	time.Sleep(*warm)
	p0 := sum(recvs)
	measure.Store(true)
	fmt.Fprintln(out, "START")
	out.Flush()
	t0 := time.Now()
	time.Sleep(*dur)
	measure.Store(false)
	got := sum(recvs) - p0
	want := uint64(float64(len(legA)) * 50 * time.Since(t0).Seconds())
	fmt.Fprintf(out, "RESULT %d %d %d %d %d\n", got, want, int64(h.quantile(0.5)), int64(h.quantile(0.99)), int64(h.quantile(1)))
	out.Flush()
	for _, c := range cancels {
		c()
	}
	for i := range recvs {
		recvs[i].conn.Close()
		senders[i].conn.Close()
	}
	wg.Wait()
}

var profFile *os.File

func startProfile() {
	if *prof == "" {
		return
	}
	f, err := os.Create(*prof)
	if err != nil {
		log.Fatal(err)
	}
	profFile = f
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
}

func stopProfile() {
	if profFile != nil {
		pprof.StopCPUProfile()
		profFile.Close()
		profFile = nil
	}
}
