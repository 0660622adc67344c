package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/internal/udpbatch"
)

// The parent (engine) and child (phones) talk over the child's stdin/stdout:
//
//	child:  "B <addr>" x N, "READY"      phone B sockets, where leg B must send
//	parent: "A <addr>" x N, "GO"         leg A sockets, where phone A must send
//	child:  "START"                      warm-up done, measuring
//	child:  "RESULT <received> <expected> <p50> <p99> <max>"

// twoProcEngine is the parent side (relay and term modes).
func twoProcEngine() {
	self, _ := os.Executable()
	args := []string{self, "-role", "phones", "-n", fmt.Sprint(*n), "-d", dur.String(), "-warm", warm.String(),
		"-phone-sockets", fmt.Sprint(*recvSocks), "-mode", *mode}
	if nice, err := exec.LookPath("nice"); err == nil && *phoneNice != 0 {
		// The phones yield the CPU to the engine under test: what they need is little and
		// late, and their sends stamp the time, so lateness shows as "sent of due", not jitter.
		args = append([]string{nice, "-n", fmt.Sprint(*phoneNice)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
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
	// The engine's own view: kernel arrival on leg A to the send on leg B, per stream. Its
	// variation is the jitter the engine adds, free of the phones' scheduling.
	var engMeasure atomic.Bool
	engHist := &hist{}
	for i, dst := range phoneB {
		var prev time.Duration
		onRelayed := func(at time.Time) {
			res := time.Since(at)
			if engMeasure.Load() && prev != 0 {
				engHist.add(res - prev)
			}
			prev = res
		}
		if *mode == "term" {
			p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1})
			if err != nil {
				log.Fatalf("stream %d: %v (raise ulimit -n?)", i, err)
			}
			p.SetCodec(pcmu, 101)
			p.SetRemote(dst, netip.AddrPort{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); _ = media.Play(ctx, p.Stream(), audio.NewSilence(8000, 0, 100)) }()
			closers = append(closers, func() { cancel(); <-done; p.Close() })
			continue
		}
		la, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1, OnRelayed: onRelayed})
		if err != nil {
			log.Fatalf("stream %d: %v (raise ulimit -n?)", i, err)
		}
		lb, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1})
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
			engMeasure.Store(true)
			startProfile()
			c0, t0 = cpuTime(), time.Now()
			continue
		}
		if r, ok := strings.CutPrefix(line, "RESULT "); ok {
			cpu, wall := cpuTime()-c0, time.Since(t0)
			engMeasure.Store(false)
			stopProfile()
			var got, want, sent uint64
			var q50, q99, qmx, phoneCPU int64
			fmt.Sscan(r, &got, &want, &q50, &q99, &qmx, &sent, &phoneCPU)
			p50, p99, mx := time.Duration(q50), time.Duration(q99), time.Duration(qmx)
			if *mode == "term" {
				fmt.Printf("engine: %d terminated streams (clock-paced sends), cpu=%.1f%% of one core = %.3f%% per stream, %.2f us per packet\n",
					len(phoneB), 100*cpu.Seconds()/wall.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(len(phoneB)),
					float64(cpu.Nanoseconds())/1e3/max(1, float64(got)))
				fmt.Printf("phones: received %d of %d due (%.1f%%), |interval-20ms| p50=%v p99=%v max=%v; phones cpu=%.1f%% of one core\n",
					got, want, 100*float64(got)/max(1, float64(want)), p50, p99, mx, 100*time.Duration(phoneCPU).Seconds()/wall.Seconds())
				break
			}
			fmt.Printf("engine: %d bridged streams, cpu=%.1f%% of one core = %.3f%% per stream, %.2f us per relayed packet\n",
				len(phoneB), 100*cpu.Seconds()/wall.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(len(phoneB)),
				float64(cpu.Nanoseconds())/1e3/max(1, float64(got)))
			fmt.Printf("phones: sent %d of %d due (%.1f%%), received %d (%.1f%% of sent), added jitter p50=%v p99=%v max=%v\n",
				sent, want, 100*float64(sent)/max(1, float64(want)), got, 100*float64(got)/max(1, float64(sent)), p50, p99, mx)
			fmt.Printf("phones (load generator, same machine): cpu=%.1f%% of one core\n", 100*time.Duration(phoneCPU).Seconds()/wall.Seconds())
			fmt.Printf("engine view (kernel arrival -> relayed send): added jitter p50=%v p99=%v max=%v\n",
				engHist.quantile(0.5), engHist.quantile(0.99), engHist.quantile(1))
			break
		}
	}
	in.Close()
	cmd.Wait()
	for _, c := range closers {
		c()
	}
}

// phones is the child side: N phone pairs sharing a few sockets, so the load generator's own
// cost stays well below the engine's on a small machine (the engine still sees one RTP port
// per leg and latches each leg A to a phone socket). Senders are G goroutines, each with its
// own socket and streams, on absolute 20 ms deadlines with their phases spread over the
// 20 ms (real phones are not in step); each sends its streams' packets with sendmmsg.
// Receivers read with recvmmsg and key transit times by the stream number in the payload.
func phones() {
	// Small send groups: real phones are not in step, and a burst of hundreds of packets at
	// one instant would measure the burst, not the engine.
	groups, rsocks := max(1, min(*n/4, 500)), min(*n, *recvSocks)
	var measure atomic.Bool
	h := &hist{}
	var got, sent atomic.Uint64
	var wg sync.WaitGroup
	out := bufio.NewWriter(os.Stdout)
	rconns := make([]*net.UDPConn, rsocks)
	for i := range rconns {
		rconns[i] = udp()
		_ = rconns[i].SetReadBuffer(4 << 20)
		udpbatch.KernelStamps(rconns[i])
	}
	sconns := make([]*net.UDPConn, groups)
	for i := range sconns {
		sconns[i] = udp()
		_ = sconns[i].SetWriteBuffer(4 << 20)
	}
	for i := range *n {
		fmt.Fprintf(out, "B %s\n", addr(rconns[i%rsocks]))
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
	for _, c := range rconns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			receivePhones(c, len(legA), &measure, h, &got)
		}()
	}
	stop := make(chan struct{})
	var sw sync.WaitGroup
	start := time.Now().Add(10 * time.Millisecond)
	for g := range groups {
		var ids []int
		for i := g; i < len(legA); i += groups {
			ids = append(ids, i)
		}
		if len(ids) == 0 {
			continue // term: the phones only listen
		}
		sw.Add(1)
		go func() {
			defer sw.Done()
			next := start.Add(time.Duration(g) * 20 * time.Millisecond / time.Duration(groups))
			sendPhones(sconns[g], ids, legA, next, stop, &sent)
		}()
	}
	time.Sleep(*warm)
	p0, s0 := got.Load(), sent.Load()
	measure.Store(true)
	fmt.Fprintln(out, "START")
	out.Flush()
	t0, c0 := time.Now(), cpuTime()
	time.Sleep(*dur)
	measure.Store(false)
	c1 := cpuTime() - c0
	// Stop the senders, then give packets still in flight 100 ms to arrive.
	close(stop)
	sw.Wait()
	s1 := sent.Load()
	el := time.Since(t0)
	time.Sleep(100 * time.Millisecond)
	gotN := got.Load() - p0
	want := uint64(float64(*n) * 50 * el.Seconds())
	fmt.Fprintf(out, "RESULT %d %d %d %d %d %d %d\n", gotN, want, int64(h.quantile(0.5)), int64(h.quantile(0.99)), int64(h.quantile(1)), s1-s0, int64(c1))
	out.Flush()
	for _, c := range rconns {
		c.Close()
	}
	for _, c := range sconns {
		c.Close()
	}
	wg.Wait()
}

// receivePhones reads one receive socket until it is closed: in term mode the spacing of each
// stream's packets (by SSRC), otherwise each of legs streams' transit-time jitter.
func receivePhones(c *net.UDPConn, legs int, measure *atomic.Bool, h *hist, got *atomic.Uint64) {
	prev := make([]time.Duration, legs)
	have := make([]bool, legs)
	var spacing map[uint32]time.Time
	if *mode == "term" {
		spacing = map[uint32]time.Time{}
	}
	m := udpbatch.New(64, 1500)
	for {
		k, err := m.Recv(c)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		got.Add(uint64(k))
		on := measure.Load()
		for i := range k {
			pkt := m.Packet(i)
			if spacing != nil {
				// term: the engine's clock-paced sender; |interval - 20 ms| per stream,
				// the stream known by its SSRC.
				at := m.Stamp(i)
				if at.IsZero() {
					at = now
				}
				if len(pkt) >= 12 {
					ssrc := binary.BigEndian.Uint32(pkt[8:12])
					if last, ok := spacing[ssrc]; ok && on {
						h.add(at.Sub(last) - 20*time.Millisecond)
					}
					spacing[ssrc] = at
				}
				continue
			}
			if len(pkt) < 24 {
				continue
			}
			id := int(binary.BigEndian.Uint32(pkt[20:24]))
			if id >= len(prev) {
				continue
			}
			now := now
			if t := m.Stamp(i); !t.IsZero() {
				now = t
			}
			transit := now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(pkt[12:20]))))
			if have[id] && on {
				h.add(transit - prev[id])
			}
			prev[id], have[id] = transit, true
		}
	}
}

// sendPhones sends one group's streams from conn: a packet each 20 ms from next on, until stop.
func sendPhones(conn *net.UDPConn, ids []int, legA []netip.AddrPort, next time.Time, stop <-chan struct{}, sent *atomic.Uint64) {
	m := udpbatch.New(len(ids), 12+160)
	for k, id := range ids {
		pkt := m.Bufs[k]
		pkt[0] = 0x80
		binary.BigEndian.PutUint32(pkt[8:], uint32(id+1))
		binary.BigEndian.PutUint32(pkt[20:], uint32(id))
		m.SetDst(k, legA[id], len(pkt))
	}
	for seq := uint16(1); ; seq++ {
		select {
		case <-stop:
			return
		case <-time.After(time.Until(next)):
		}
		for k := range ids {
			pkt := m.Bufs[k]
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
			binary.BigEndian.PutUint64(pkt[12:], uint64(time.Now().UnixNano()))
		}
		m.Send(conn, len(ids))
		sent.Add(uint64(len(ids)))
		next = next.Add(20 * time.Millisecond)
		if late := time.Since(next); late > 20*time.Millisecond {
			next = next.Add(late.Truncate(20 * time.Millisecond)) // skip, do not burst
		}
	}
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
