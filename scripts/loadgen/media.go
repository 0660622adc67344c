package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/internal/udpbatch"
)

// The loadgen's RTP: every stream (one direction of one call, sent by the UAC or the UAS side)
// is a row in the clock's table; ONE clock goroutine sends every due packet, tick by tick, with
// sendmmsg per socket. Calls share a few sockets per side (call i uses socket i%K for sending
// and receiving, and advertises it in its SDP, so goswitch's symmetric latching agrees), and
// one receiver goroutine per socket reads with recvmmsg and demultiplexes by the call number in
// the payload. goswitch relays PCMU payloads unchanged, so the payload carries what the far
// end measures with:
//
//	payload[0:8]   send time, Unix ns
//	payload[8:12]  call number
//	payload[12:16] the stream's own sequence number (goswitch rewrites the RTP one)
//	payload[16:160] 0xFF (PCMU silence)
const (
	rtpHdr     = 12
	payloadLen = 160
	tick       = 1 * time.Millisecond
	slots      = int(20 * time.Millisecond / tick)
)

// side is who sends a stream: the caller (UAC, towards goswitch's A leg) or the callee (UAS,
// towards the B leg).
type side uint8

const (
	uac side = iota
	uas
)

// stream is a clock-table row; only the clock goroutine touches it.
type stream struct {
	call int
	side side
	dst  netip.AddrPort
	seq  uint32
}

type streamKey struct {
	call int
	side side
}

// legStats is one receive direction of one call; the receiver goroutine of the call's socket
// writes it, the report reads it after the receivers stopped (or atomically while running).
type legStats struct {
	sent  atomic.Uint32 // by the far side's stream
	recv  atomic.Uint32
	prevT time.Duration // receiver only: transit of the previous packet
	prevS uint32        // its sequence number
}

// media is the clock, the sockets and the per-call receive statistics.
type media struct {
	socks [2][]*net.UDPConn // [uac|uas][k]
	legs  [2][]legStats     // [receiving side][call]: received at that side, sent by the other

	cmds chan func(*clockTable) // to the clock goroutine
	stop chan struct{}
	wg   sync.WaitGroup

	measure atomic.Bool   // count added jitter (the hold phase)
	hists   []*hist       // one per receiver, merged at the end
	late    atomic.Uint64 // clock ticks skipped
	due     atomic.Uint64 // packets the streams should have sent
	sent    atomic.Uint64 // packets handed to sendmmsg
}

type clockTable struct {
	slot  [slots][]*stream
	index map[streamKey]int // stream -> slot
}

func newMedia(calls, perSide, senders int) (*media, error) {
	m := &media{cmds: make(chan func(*clockTable), 4096), stop: make(chan struct{})}
	for s := range m.socks {
		m.legs[s] = make([]legStats, calls)
		for range perSide {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				m.close()
				return nil, err
			}
			udpbatch.Buffers(c, 8<<20)
			udpbatch.KernelStamps(c)
			m.socks[s] = append(m.socks[s], c)
		}
	}
	for s := range m.socks {
		for _, c := range m.socks[s] {
			h := &hist{}
			m.hists = append(m.hists, h)
			m.wg.Add(1)
			go m.receive(c, side(s), h)
		}
	}
	m.wg.Add(1)
	go m.clock(senders)
	return m, nil
}

// port is the local RTP port call uses on side s (its SDP's m= port).
func (m *media) port(call int, s side) int {
	return m.socks[s][call%len(m.socks[s])].LocalAddr().(*net.UDPAddr).Port
}

// start adds call's stream from side s to dst.
func (m *media) start(call int, s side, dst netip.AddrPort) {
	m.cmds <- func(t *clockTable) {
		k := streamKey{call, s}
		if _, ok := t.index[k]; ok {
			return
		}
		sl := call % slots // phases spread over the 20 ms, like real phones
		t.slot[sl] = append(t.slot[sl], &stream{call: call, side: s, dst: dst})
		t.index[k] = sl
	}
}

// halt removes call's stream from side s; done (if not nil) is closed once it is out.
func (m *media) halt(call int, s side, done chan struct{}) {
	m.cmds <- func(t *clockTable) {
		k := streamKey{call, s}
		if sl, ok := t.index[k]; ok {
			row := t.slot[sl]
			for i, st := range row {
				if st.call == call && st.side == s {
					row[i] = row[len(row)-1]
					t.slot[sl] = row[:len(row)-1]
					break
				}
			}
			delete(t.index, k)
		}
		if done != nil {
			close(done)
		}
	}
}

// clock is the one goroutine that paces RTP: every tick it applies queued starts and halts and
// hands the streams whose phase is this tick, grouped by socket, to a fixed set of sender
// workers (-senders; on loopback a send also pays for the far socket's receive, more than one
// core can give at 2,000 calls), then waits for them before the next tick.
func (m *media) clock(senders int) {
	defer m.wg.Done()
	t := &clockTable{index: map[streamKey]int{}}
	var jobs []*sockJob
	for s := range m.socks {
		for k, c := range m.socks[s] {
			jobs = append(jobs, &sockJob{side: side(s), conn: c, b: udpbatch.New(256, rtpHdr+payloadLen), k: k})
		}
	}
	bySock := func(s side, call int) *sockJob {
		if s == uac {
			return jobs[call%len(m.socks[uac])]
		}
		return jobs[len(m.socks[uac])+call%len(m.socks[uas])]
	}
	senders = max(1, min(senders, len(jobs)))
	work := make([]chan struct{}, senders)
	var done sync.WaitGroup
	var workers sync.WaitGroup
	for w := range work {
		work[w] = make(chan struct{})
		workers.Add(1)
		go func() {
			defer workers.Done()
			for range work[w] {
				for j := w; j < len(jobs); j += senders {
					m.send(jobs[j])
				}
				done.Done()
			}
		}()
	}
	defer func() {
		for _, w := range work {
			close(w)
		}
		workers.Wait()
	}()
	next := time.Now().Truncate(tick).Add(tick)
	tm := time.NewTimer(time.Until(next))
	defer tm.Stop()
	for n := 0; ; n++ {
		select {
		case <-m.stop:
			return
		case <-tm.C:
		}
	drain:
		for {
			select {
			case f := <-m.cmds:
				f(t)
			default:
				break drain
			}
		}
		row := t.slot[n%slots]
		m.due.Add(uint64(len(row)))
		for _, st := range row {
			j := bySock(st.side, st.call)
			j.streams = append(j.streams, st)
		}
		done.Add(senders)
		for _, w := range work {
			w <- struct{}{}
		}
		done.Wait()
		next = next.Add(tick)
		if late := time.Since(next); late > 20*time.Millisecond {
			// Skip rather than burst: a stalled generator shows as packets not sent (SentPct),
			// not as loss.
			skip := int(late / tick)
			for i := 1; i <= skip; i++ {
				m.due.Add(uint64(len(t.slot[(n+i)%slots])))
			}
			m.late.Add(uint64(skip))
			next = next.Add(time.Duration(skip) * tick)
			n += skip
		}
		tm.Reset(time.Until(next))
	}
}

// sockJob is one socket's share of a tick.
type sockJob struct {
	side    side
	k       int
	conn    *net.UDPConn
	b       *udpbatch.Batch
	streams []*stream
}

// send stamps, fills and sends (sendmmsg) the job's packets, in batches of the batch's size.
func (m *media) send(j *sockJob) {
	for off := 0; off < len(j.streams); {
		n := min(len(j.streams)-off, len(j.b.Bufs))
		ns := uint64(time.Now().UnixNano()) // as close to the send as a batch allows
		for i, st := range j.streams[off : off+n] {
			st.seq++
			p := j.b.Bufs[i][:rtpHdr+payloadLen]
			// The buffer is shared by the calls of this socket: write every field.
			p[0], p[1] = 0x80, 0 // V=2, PCMU
			binary.BigEndian.PutUint16(p[2:], uint16(st.seq))
			binary.BigEndian.PutUint32(p[4:], st.seq*160)
			binary.BigEndian.PutUint32(p[8:], uint32(st.call)<<1|uint32(st.side))
			binary.BigEndian.PutUint64(p[rtpHdr:], ns)
			binary.BigEndian.PutUint32(p[rtpHdr+8:], uint32(st.call))
			binary.BigEndian.PutUint32(p[rtpHdr+12:], st.seq)
			if p[len(p)-1] != 0xFF {
				for x := rtpHdr + 16; x < len(p); x++ {
					p[x] = 0xFF
				}
			}
			j.b.SetDst(i, st.dst, len(p))
			m.legs[1-j.side][st.call].sent.Add(1)
		}
		j.b.Send(j.conn, n)
		m.sent.Add(uint64(n))
		off += n
	}
	j.streams = j.streams[:0]
}

// receive reads one socket of side s: counts each call's packets and, during the hold, the
// change in transit time between consecutive packets (jitter added on the way).
func (m *media) receive(c *net.UDPConn, s side, h *hist) {
	defer m.wg.Done()
	b := udpbatch.New(64, 1500)
	legs := m.legs[s]
	for {
		k, err := b.Recv(c)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		on := m.measure.Load()
		for i := range k {
			p := b.Packet(i)
			if len(p) < rtpHdr+16 {
				continue
			}
			call := int(binary.BigEndian.Uint32(p[rtpHdr+8:]))
			if call >= len(legs) {
				continue
			}
			at := b.Stamp(i)
			if at.IsZero() {
				at = now
			}
			l := &legs[call]
			l.recv.Add(1)
			seq := binary.BigEndian.Uint32(p[rtpHdr+12:])
			transit := at.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(p[rtpHdr:]))))
			if on && seq == l.prevS+1 && l.prevS != 0 {
				h.add(transit - l.prevT)
			}
			l.prevT, l.prevS = transit, seq
		}
	}
}

// close stops the clock and the receivers.
func (m *media) close() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	for s := range m.socks {
		for _, c := range m.socks[s] {
			c.Close()
		}
	}
	m.wg.Wait()
}
