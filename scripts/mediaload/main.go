// Command mediaload measures the media engine under load over loopback UDP: N concurrent
// bridged G.711 calls at 50 packets/s, reporting the engine's CPU per stream and the jitter it
// adds.
//
//	go run ./scripts/mediaload -n 2000 -d 10s            # relay: phone A -> leg A == leg B -> phone B
//	go run ./scripts/mediaload -n 2000 -d 10s -mode term # terminated: clock-paced sends to phone B
//
// relay mode runs the phones (senders and receivers) in a child process, so the engine
// process's CPU time (getrusage) is the engine's alone. Added jitter is
// |transit(i) - transit(i-1)| at phone B: how much the engine changed the spacing the sender
// produced (the sender stamps its send time into the payload; phone B takes the kernel's
// arrival timestamp, SO_TIMESTAMPNS). The engine also reports its own view: per stream, the
// variation of the time from a packet's kernel arrival on leg A to its send on leg B, which no
// scheduling of the phones can blur. The phones run at nice 19 (-phones-nice), so that on a
// machine they must share with the engine the engine gets the cores it asks for; they share a
// few sockets (-phone-sockets), batch with sendmmsg/recvmmsg (Linux) in small send groups spread
// over the 20 ms, and report packets sent against those due, so generator lag is not mistaken
// for engine loss or jitter.
//
// term mode plays silence from N terminated ports (the clock-paced sender) to phones in the
// same kind of child, which measure |interval - 20 ms| per stream from kernel arrival stamps.
// relay1 and term1 are the older single-process variants (phones inside the engine process).
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g711"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	"github.com/goswitch/goswitch/internal/udpbatch"
)

var (
	n      = flag.Int("n", 500, "concurrent streams")
	dur    = flag.Duration("d", 10*time.Second, "measurement time per phase")
	warm   = flag.Duration("warm", 2*time.Second, "warm-up before measuring")
	mode   = flag.String("mode", "relay", "relay or term")
	shards = flag.Int("shards", runtime.GOMAXPROCS(0), "engine clock shards")
	role   = flag.String("role", "engine", "internal: engine or phones (the child process)")
	prof   = flag.String("cpuprofile", "", "write the engine's CPU profile (measured phase) to this file")

	recvSocks = flag.Int("phone-sockets", 16, "relay: sockets the phones B share (each stream sends to one of them)")
	phoneNice = flag.Int("phones-nice", 19, "relay: run the phones process at this nice level (0 = same as the engine)")
)

var pcmu = media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, Ptime: 20 * time.Millisecond}
var lo = netip.MustParseAddr("127.0.0.1")

// hist is a 10 µs-bucket histogram up to 200 ms.
type hist struct {
	b     [20000]atomic.Uint64
	count atomic.Uint64
}

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = -d
	}
	i := int(d / (10 * time.Microsecond))
	i = min(i, len(h.b)-1)
	h.b[i].Add(1)
	h.count.Add(1)
}

func (h *hist) quantile(q float64) time.Duration {
	total := h.count.Load()
	if total == 0 {
		return 0
	}
	want := uint64(float64(total) * q)
	var acc uint64
	for i := range h.b {
		acc += h.b[i].Load()
		if acc >= want {
			return time.Duration(i+1) * 10 * time.Microsecond
		}
	}
	return 200 * time.Millisecond
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func udp() *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SetReadBuffer(256 << 10)
	return c
}

func addr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// receiver is phone B: it records transit-time differences (relay) or arrival spacing (term).
type receiver struct {
	conn    *net.UDPConn
	got     atomic.Uint64
	measure *atomic.Bool
	h       *hist
	spacing bool
}

func (r *receiver) run(wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 1500)
	oob := make([]byte, 64)
	var prev time.Duration
	var prevAt time.Time
	have := false
	for {
		n, oobn, _, _, err := r.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := udpbatch.KernelStamp(oob[:oobn]) // when the datagram arrived, not when we got round to it
		if now.IsZero() {
			now = time.Now()
		}
		r.got.Add(1)
		if n < 12+8 {
			continue
		}
		if r.spacing {
			if have && r.measure.Load() {
				r.h.add(now.Sub(prevAt) - 20*time.Millisecond)
			}
			prevAt, have = now, true
			continue
		}
		sent := int64(binary.BigEndian.Uint64(buf[12:20]))
		transit := now.Sub(time.Unix(0, sent))
		if have && r.measure.Load() {
			r.h.add(transit - prev)
		}
		prev, have = transit, true
	}
}

type result struct {
	cpu     time.Duration
	packets uint64
	p50     time.Duration
	p99     time.Duration
	max     time.Duration
}

// phase runs the senders for warm+dur and measures during dur.
func phase(name string, bridged bool) result {
	genClk := media.NewSoftClock(2)
	defer genClk.Close()
	engClk := media.NewSoftClock(*shards)
	defer engClk.Close()
	var measure atomic.Bool
	h := &hist{}
	var wg sync.WaitGroup
	var closers []func()
	var recvs []*receiver
	for i := 0; i < *n; i++ {
		phoneA, phoneB := udp(), udp()
		r := &receiver{conn: phoneB, measure: &measure, h: h}
		recvs = append(recvs, r)
		wg.Add(1)
		go r.run(&wg)
		dst := addr(phoneB)
		if bridged {
			la, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1})
			if err != nil {
				log.Fatalf("stream %d: %v (raise ulimit -n?)", i, err)
			}
			lb, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1})
			if err != nil {
				log.Fatalf("stream %d: %v", i, err)
			}
			la.SetCodec(pcmu, 101)
			lb.SetCodec(pcmu, 101)
			la.SetRemote(addr(phoneA), netip.AddrPort{})
			lb.SetRemote(dst, netip.AddrPort{})
			stop, _ := media.Bridge(la, lb)
			closers = append(closers, func() { stop(); la.Close(); lb.Close() })
			dst = la.LocalAddr()
		}
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0
		binary.BigEndian.PutUint32(pkt[8:], uint32(i+1))
		seq := uint16(0)
		var first time.Time
		cancel := genClk.Every(20*time.Millisecond, func(deadline time.Time) {
			// Like a phone, stamp by elapsed time: a late generator tick leaves a gap.
			if first.IsZero() {
				first = deadline
			}
			seq++
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(deadline.Sub(first)/(time.Second/8000)))
			binary.BigEndian.PutUint64(pkt[12:], uint64(time.Now().UnixNano()))
			_, _ = phoneA.WriteToUDPAddrPort(pkt, dst)
		})
		closers = append(closers, func() { cancel(); phoneA.Close(); phoneB.Close() })
	}
	time.Sleep(*warm)
	c0, p0 := cpuTime(), sum(recvs)
	measure.Store(true)
	time.Sleep(*dur)
	measure.Store(false)
	c1, p1 := cpuTime(), sum(recvs)
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	wg.Wait()
	res := result{cpu: c1 - c0, packets: p1 - p0, p50: h.quantile(0.5), p99: h.quantile(0.99), max: h.quantile(1)}
	fmt.Printf("%-9s streams=%d cpu=%.1f%% of one core  received=%d pkts (%.1f%% of expected)  jitter p50=%v p99=%v max=%v\n",
		name, *n, 100*res.cpu.Seconds()/dur.Seconds(), res.packets,
		100*float64(res.packets)/(float64(*n)*50*dur.Seconds()), res.p50, res.p99, res.max)
	return res
}

func sum(rs []*receiver) uint64 {
	var s uint64
	for _, r := range rs {
		s += r.got.Load()
	}
	return s
}

// term: each engine port plays silence (clock paced) to its phone.
func term() {
	engClk := media.NewSoftClock(*shards)
	defer engClk.Close()
	var measure atomic.Bool
	h := &hist{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	var recvs []*receiver
	var ports []*rtp.RTPPort
	var pw sync.WaitGroup
	for i := 0; i < *n; i++ {
		phone := udp()
		udpbatch.KernelStamps(phone)
		r := &receiver{conn: phone, measure: &measure, h: h, spacing: true}
		recvs = append(recvs, r)
		wg.Add(1)
		go r.run(&wg)
		p, err := rtp.ListenRTP(lo, 0, rtp.RTPConfig{Clock: engClk, RTCPInterval: -1})
		if err != nil {
			log.Fatal(err)
		}
		p.SetCodec(pcmu, 101)
		p.SetRemote(addr(phone), netip.AddrPort{})
		ports = append(ports, p)
		pw.Add(1)
		go func() { defer pw.Done(); _ = media.Play(ctx, p.Stream(), audio.NewSilence(8000, 0, 100)) }()
	}
	time.Sleep(*warm)
	c0, p0 := cpuTime(), sum(recvs)
	measure.Store(true)
	time.Sleep(*dur)
	measure.Store(false)
	c1, p1 := cpuTime(), sum(recvs)
	cancel()
	pw.Wait()
	for i, p := range ports {
		p.Close()
		recvs[i].conn.Close()
	}
	wg.Wait()
	cpu := c1 - c0
	fmt.Printf("term      streams=%d cpu=%.1f%% of one core (%.3f%% per stream, %.1f us per packet)  received=%d (%.1f%%)  |interval-20ms| p50=%v p99=%v max=%v\n",
		*n, 100*cpu.Seconds()/dur.Seconds(), 100*cpu.Seconds()/dur.Seconds()/float64(*n),
		float64(cpu.Microseconds())/float64(p1-p0), p1-p0, 100*float64(p1-p0)/(float64(*n)*50*dur.Seconds()),
		h.quantile(0.5), h.quantile(0.99), h.quantile(1))
}

func main() {
	flag.Parse()
	if *role == "phones" {
		phones()
		return
	}
	fmt.Printf("mediaload: GOMAXPROCS=%d, %s, %d streams, %v per phase\n", runtime.GOMAXPROCS(0), *mode, *n, *dur)
	switch *mode {
	case "relay":
		twoProcEngine()
	case "relay1":
		// Single-process variant: baseline (phones direct) and bridged runs, engine = difference.
		base := phase("baseline", false)
		br := phase("bridged", true)
		eng := br.cpu - base.cpu
		fmt.Printf("engine    cpu=%.1f%% of one core for %d bridged streams = %.3f%% per stream, %.1f us per relayed packet; added jitter p99=%v (baseline %v)\n",
			100*eng.Seconds()/dur.Seconds(), *n, 100*eng.Seconds()/dur.Seconds()/float64(*n),
			float64(eng.Microseconds())/max(1, float64(br.packets)), br.p99, base.p99)
	case "term":
		twoProcEngine() // the phones (listeners only) in a child process, as for relay
	case "term1":
		term()
	default:
		fmt.Fprintln(os.Stderr, "mode must be relay, term, relay1 or term1")
		os.Exit(2)
	}
}
