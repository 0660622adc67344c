package clustertest

import (
	"math"
	"net"
	"os"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goswitch/goswitch/internal/testhost"
	"github.com/zaf/g711"
)

// rtpPhone is the media side of one SIPp phone: SIPp does the signalling and advertises this
// socket (key rtpport) in its SDP; the phone streams a PCMU tone to the node once the node's
// SDP is known and keeps the PCM it receives, so the test can say what the caller heard.
type rtpPhone struct {
	conn *net.UDPConn
	freq float64 // 0: silence

	mu  sync.Mutex
	dst *net.UDPAddr
	got []heard

	stop chan struct{}
	wg   sync.WaitGroup
}

type heard struct {
	at  time.Time
	pcm []int16
}

// listenUDP opens a UDP socket on phoneIP inside the cluster's namespace: the socket is made on
// an OS thread moved into the namespace, and a socket keeps its namespace for life.
func (c *cluster) listenUDP() *net.UDPConn {
	c.t.Helper()
	type res struct {
		conn *net.UDPConn
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		// Never unlocked: the thread, now in the namespace, ends with this goroutine.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + c.ns)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
		ch <- res{conn, err}
	}()
	r := <-ch
	if r.err != nil {
		c.t.Fatalf("UDP socket in the namespace: %v", r.err)
	}
	return r.conn
}

// newPhone starts a phone that sends freq (Hz, 0 for silence) once it has a destination.
func (c *cluster) newPhone(freq float64) *rtpPhone {
	p := &rtpPhone{conn: c.listenUDP(), freq: freq, stop: make(chan struct{})}
	p.wg.Add(2)
	go p.recv()
	go p.send()
	c.t.Cleanup(func() {
		close(p.stop)
		p.conn.Close()
		p.wg.Wait()
	})
	return p
}

func (p *rtpPhone) port() string { return itoa(p.conn.LocalAddr().(*net.UDPAddr).Port) }

func (p *rtpPhone) setDst(a *net.UDPAddr) { p.mu.Lock(); p.dst = a; p.mu.Unlock() }

func (p *rtpPhone) recv() {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[1]&0x7f != 0 { // PCMU only (not telephone-event, not CN)
			continue
		}
		hl := 12 + 4*int(buf[0]&0x0f)
		if n <= hl {
			continue
		}
		pcm := make([]int16, n-hl)
		for i, b := range buf[hl:n] {
			pcm[i] = g711.DecodeUlawFrame(b)
		}
		p.mu.Lock()
		p.got = append(p.got, heard{time.Now(), pcm})
		p.mu.Unlock()
	}
}

func (p *rtpPhone) send() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	pkt[8], pkt[9], pkt[10], pkt[11] = 0x47, 0x53, byte(p.conn.LocalAddr().(*net.UDPAddr).Port>>8), byte(p.conn.LocalAddr().(*net.UDPAddr).Port)
	var seq uint16
	var ts uint32
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		dst := p.dst
		p.mu.Unlock()
		if dst == nil {
			continue
		}
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		for i := range 160 {
			v := 8000 * math.Sin(2*math.Pi*p.freq*float64(ts+uint32(i))/8000)
			pkt[12+i] = g711.EncodeUlawFrame(int16(v))
		}
		p.conn.WriteToUDP(pkt, dst)
		seq++
		ts += 160
	}
}

// framesSince is the audio received since from, one packet a frame, in arrival order.
func (p *rtpPhone) framesSince(from time.Time) [][]int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]int16
	for _, h := range p.got {
		if !h.at.Before(from) {
			out = append(out, h.pcm)
		}
	}
	return out
}

// toneShare is the share of the power of frames that is at freq: near 1 for a pure sine, a
// tone's part of the power for a mix, near 0 when freq is absent (0 for silence). It is taken
// per 20 ms packet (160 samples: 50 Hz bins, so multiples of 50 Hz fall on a bin), so the
// phase jumps between packets of a mix do not matter.
func toneShare(frames [][]int16, freq float64) float64 {
	var g, ms float64
	for _, f := range frames {
		e := testhost.Energy(f)
		g += testhost.Goertzel(f, 8000, freq)
		ms += e * e
	}
	if ms == 0 {
		return 0
	}
	return 2 * g / ms
}

// loud keeps the frames whose RMS level is at least min.
func loud(frames [][]int16, min float64) [][]int16 {
	var out [][]int16
	for _, f := range frames {
		if testhost.Energy(f) >= min {
			out = append(out, f)
		}
	}
	return out
}

var (
	sdpConn  = regexp.MustCompile(`(?m)^c=IN IP4 (127\.0\.0\.1[12])\s*$`)
	sdpAudio = regexp.MustCompile(`(?m)^m=audio (\d+) `)
)

// nodeMedia waits for the node's SDP in a SIPp message log (-trace_msg) and returns its audio
// address: the node's c= line (the phone's own SDP carries phoneIP) and the m= line after it.
func nodeMedia(t *testing.T, log string, d time.Duration) *net.UDPAddr {
	t.Helper()
	var a *net.UDPAddr
	waitFor(t, d, "the node's SDP in "+log, func() bool {
		b, _ := os.ReadFile(log)
		cs := sdpConn.FindAllSubmatchIndex(b, -1)
		if len(cs) == 0 {
			return false
		}
		last := cs[len(cs)-1]
		m := sdpAudio.FindSubmatch(b[last[1]:])
		if m == nil {
			return false
		}
		port, _ := net.ResolveUDPAddr("udp4", string(b[last[2]:last[3]])+":"+string(m[1]))
		a = port
		return a != nil
	})
	return a
}
