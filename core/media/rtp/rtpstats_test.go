package rtp_test

import (
	"math"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media/rtp"
)

type rxPkt struct {
	ssrc uint32
	seq  uint16
}

// seqs is packets of source 1 with the given sequence numbers.
func seqs(ss ...int) []rxPkt {
	out := make([]rxPkt, len(ss))
	for i, s := range ss {
		out[i] = rxPkt{1, uint16(s)}
	}
	return out
}

// seqRange is packets of source ssrc numbered from..to (inclusive, wrapping), minus skip.
func seqRange(ssrc uint32, from, to int, skip func(int) bool) []rxPkt {
	var out []rxPkt
	for s := from; s <= to; s++ {
		if skip == nil || !skip(s) {
			out = append(out, rxPkt{ssrc, uint16(s)})
		}
	}
	return out
}

func feed(s *rtp.RTPStats, pkts []rxPkt) {
	at := testEpoch
	for _, p := range pkts {
		s.Update(p.ssrc, p.seq, uint32(p.seq)*160, at, 8000)
		at = at.Add(20 * time.Millisecond)
	}
}

func TestRTPStatsSequence(t *testing.T) {
	cat := func(a ...[]rxPkt) (out []rxPkt) {
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	cases := []struct {
		name string
		pkts []rxPkt
		ok   bool
		want rtp.RTPReception // Jitter and FractionLost not compared
	}{
		{"nothing", nil, false, rtp.RTPReception{}},
		// The first packet of a new source only starts its probation (A.1): not counted.
		{"probation: one packet", seqs(7), false, rtp.RTPReception{}},
		{"in order", seqRange(1, 100, 109, nil), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 109, Received: 9, Expected: 9}},
		{"probation restarts on a gap", seqs(10, 20, 21, 22), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 22, Received: 2, Expected: 2}},
		{"wrap", seqRange(1, 65530, 65541, nil), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 65541, Received: 11, Expected: 11}},
		{"two wraps", seqRange(1, 65530, 2*65536+5, nil), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 2*65536 + 5, Received: 65547, Expected: 65547}},
		{"reorder", seqs(1, 2, 3, 5, 4, 6), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 6, Received: 5, Expected: 5}},
		{"reorder across the wrap", seqs(65533, 65534, 65535, 1, 0, 2), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 65538, Received: 5, Expected: 5}},
		{"late packet after the wrap is not a new cycle", seqs(65534, 65535, 0, 1, 65535, 2), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 65538, Received: 5, Expected: 4, TotalLost: -1}},
		{"duplicates", seqs(1, 2, 3, 3, 3, 4), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 4, Received: 5, Expected: 3, TotalLost: -2}},
		{"loss", seqRange(1, 1, 10, func(s int) bool { return s >= 5 && s <= 7 }), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 10, Received: 6, Expected: 9, TotalLost: 3}},
		{"loss across the wrap", seqRange(1, 65500, 65601, func(s int) bool { return s%10 == 0 }), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 65601, Received: 90, Expected: 100, TotalLost: 10}},
		{"one large jump is ignored", cat(seqRange(1, 1, 5, nil), seqs(40000), seqRange(1, 6, 7, nil)), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 7, Received: 6, Expected: 6}},
		{"two in sequence after a jump restart", cat(seqRange(1, 1, 5, nil), seqs(40000, 40001, 40002)), true,
			rtp.RTPReception{SSRC: 1, ExtHighest: 40002, Received: 2, Expected: 2}},
		{"new SSRC starts over", cat(seqRange(1, 1, 10, nil), seqRange(2, 500, 502, nil)), true,
			rtp.RTPReception{SSRC: 2, ExtHighest: 502, Received: 2, Expected: 2}},
		{"new SSRC on probation: no block", cat(seqRange(1, 1, 10, nil), seqRange(2, 500, 500, nil)), false,
			rtp.RTPReception{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s rtp.RTPStats
			feed(&s, tc.pkts)
			got, ok := s.Snapshot()
			got.Jitter, got.FractionLost = 0, 0
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
			if r, rok := s.Report(); rok != ok || r.TotalLost != got.TotalLost || r.ExtHighest != got.ExtHighest {
				t.Errorf("Report %+v %v disagrees with Snapshot %+v", r, rok, got)
			}
		})
	}
}

func TestRTPStatsFractionLost(t *testing.T) {
	var s rtp.RTPStats
	report := func(wantFrac uint8, wantLost int32) {
		t.Helper()
		r, ok := s.Report()
		if !ok || r.FractionLost != wantFrac || r.TotalLost != wantLost {
			t.Errorf("report %+v %v, want fraction %d lost %d", r, ok, wantFrac, wantLost)
		}
		if snap, _ := s.Snapshot(); snap.FractionLost != wantFrac {
			t.Errorf("Snapshot fraction %d, want the last report's %d", snap.FractionLost, wantFrac)
		}
	}
	feed(&s, seqRange(1, 0, 100, func(s int) bool { return s%4 == 2 })) // 1..100 expected, 25 lost
	report(64, 25)                                                      // 25/100 = 64/256
	report(0, 25)                                                       // nothing new: 0, not NaN
	feed(&s, seqRange(1, 101, 200, nil))
	report(0, 25)
	feed(&s, seqRange(1, 201, 300, func(s int) bool { return s%2 == 1 }))
	report(128, 75)
	// Duplicates outnumber losses in the interval: fraction 0, cumulative goes down.
	feed(&s, append(seqRange(1, 301, 310, func(s int) bool { return s == 305 }), seqs(306, 307, 308)...))
	report(0, 73)
	// Everything but the last packet of an interval lost.
	feed(&s, seqs(1000))
	report(uint8(689*256/690), 762)
}

func TestRTPStatsLostClamp(t *testing.T) {
	var s rtp.RTPStats
	at := testEpoch
	seq := uint16(0)
	// Gaps just under MAX_DROPOUT: each packet loses 2998, 3000 packets lose ~9M > 2^23-1.
	for i := range 3002 {
		if i >= 2 {
			seq += 2999
		} else if i == 1 {
			seq++
		}
		s.Update(1, seq, 0, at, 0)
	}
	if r, _ := s.Snapshot(); r.TotalLost != 0x7fffff {
		t.Errorf("lost %d, want clamped to %d", r.TotalLost, 0x7fffff)
	}
}

// TestRTPStatsJitter checks A.8 against a sequence computed by hand: transit times 0, 0, 40, 0,
// 0 (RTP units at 8 kHz) give J = 40/16 = 2, then 77/16 = 4, then 72/16 = 4 (J*16 += |D| -
// (J*16+8)/16), and against the floating-point formula on a longer sequence.
func TestRTPStatsJitter(t *testing.T) {
	var s rtp.RTPStats
	offsets := []time.Duration{0, 0, 5 * time.Millisecond, 0, 0} // late by, per 20 ms packet
	want := []uint32{0, 0, 2, 4, 4}
	for i, off := range offsets {
		s.Update(9, uint16(100+i), uint32(1000+160*i), testEpoch.Add(time.Duration(i)*20*time.Millisecond+off), 8000)
		if r, _ := s.Snapshot(); r.Jitter != want[i] {
			t.Errorf("packet %d: jitter %d, want %d", i, r.Jitter, want[i])
		}
	}

	// Pseudo-random delays at 48 kHz, starting a few days after the epoch (the conversion to
	// RTP units must not overflow), compared with J += (|D| - J)/16 in float.
	s = rtp.RTPStats{}
	base := time.Now().Add(72 * time.Hour)
	var jf, prevTransit float64
	x := uint32(12345)
	for i := range 2000 {
		x = x*1664525 + 1013904223
		delay := time.Duration(x>>8) % (30 * time.Millisecond)
		ts := uint32(0xfffff000 + 960*i) // wraps too
		arrival := base.Add(time.Duration(i)*20*time.Millisecond + delay)
		s.Update(3, uint16(i), ts, arrival, 48000)
		transit := float64(arrival.Sub(base))*48000/1e9 - float64(960*i)
		if i >= 2 { // packet 0 is probation, packet 1 only sets the transit
			jf += (math.Abs(transit-prevTransit) - jf) / 16
		}
		prevTransit = transit
	}
	r, _ := s.Snapshot()
	if math.Abs(float64(r.Jitter)-jf) > 2 {
		t.Errorf("jitter %d, float reference %.2f", r.Jitter, jf)
	}
	if jf < 100 {
		t.Fatalf("reference jitter %.1f too small to test anything", jf)
	}

	// Events (clock rate 0) count but do not move the jitter.
	before, _ := s.Snapshot()
	for i := 2000; i < 2010; i++ {
		s.Update(3, uint16(i), 777, base.Add(time.Hour), 0)
	}
	if r, _ := s.Snapshot(); r.Jitter != before.Jitter || r.Received != before.Received+10 {
		t.Errorf("events: %+v, before %+v", r, before)
	}
}

func TestRTPStatsNoAlloc(t *testing.T) {
	var s rtp.RTPStats
	seq := uint16(0)
	at := testEpoch
	if a := testing.AllocsPerRun(1000, func() {
		s.Update(1, seq, uint32(seq)*160, at, 8000)
		seq++
		at = at.Add(20 * time.Millisecond)
	}); a != 0 {
		t.Errorf("%v allocs per Update", a)
	}
}

func BenchmarkRTPStats(b *testing.B) {
	var s rtp.RTPStats
	seq := uint16(0)
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.Update(1, seq, uint32(seq)*160, at, 8000)
		seq++
		at = at.Add(20 * time.Millisecond)
	}
}

// TestRTPStatsConcurrent reads while the receive path updates (run with -race): every
// snapshot must be one consistent state, never a mix of two.
func TestRTPStatsConcurrent(t *testing.T) {
	var s rtp.RTPStats
	done := make(chan struct{})
	go func() {
		defer close(done)
		at := testEpoch
		for i := range 200000 {
			at = at.Add(20 * time.Millisecond)
			if i%3 != 1 { // a third lost
				s.Update(5, uint16(i), uint32(i)*160, at, 8000)
			}
		}
	}()
	var last uint32
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		r, ok := s.Report()
		if !ok {
			continue
		}
		// 0 and 2 are probation (not in sequence), 3 is the base; lost are 4, 7, ... up to
		// the extended highest sequence number, so the two must agree in any snapshot.
		want := int32(r.ExtHighest-1) / 3
		if r.ExtHighest < last || r.TotalLost != want || r.Received+uint32(r.TotalLost) != r.Expected {
			t.Fatalf("inconsistent %+v (want lost %d, last ext %d)", r, want, last)
		}
		last = r.ExtHighest
	}
	if r, _ := s.Snapshot(); r.ExtHighest != 199998 || r.Jitter != 0 {
		t.Errorf("final %+v", r)
	}
}
