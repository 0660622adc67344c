package rtp

import "testing"

func TestSequencerContinuity(t *testing.T) {
	s := newSequencer()
	const spf = 160
	var lastSeq uint16
	var lastTS uint32
	check := func(step string, seq uint16, ts uint32, marker, wantMarker bool, wantDTS uint32) {
		t.Helper()
		if seq != lastSeq+1 {
			t.Errorf("%s: seq %d after %d", step, seq, lastSeq)
		}
		if ts-lastTS != wantDTS {
			t.Errorf("%s: ts step %d, want %d", step, ts-lastTS, wantDTS)
		}
		if marker != wantMarker {
			t.Errorf("%s: marker %v", step, marker)
		}
		lastSeq, lastTS = seq, ts
	}
	seq, ts, m := s.nextLocal(spf)
	lastSeq, lastTS = seq, ts
	if !m {
		t.Error("first packet without marker")
	}
	s.tick(spf)
	seq, ts, m = s.nextLocal(spf)
	check("local", seq, ts, m, false, spf)
	s.tick(spf)
	s.tick(spf) // a tick with nothing to send: gap
	seq, ts, m = s.nextLocal(spf)
	check("after gap", seq, ts, m, true, 2*spf)
	s.tick(spf)
	// A relayed source with its own numbering continues our stream.
	seq, ts, m = s.mapRelay(42, 9000, 123456, spf)
	check("relay start", seq, ts, m, true, spf)
	seq, ts, m = s.mapRelay(42, 9001, 123456+spf, spf)
	check("relay", seq, ts, m, false, spf)
	// Back to local: marker, timestamps continue.
	seq, ts, m = s.nextLocal(spf)
	check("back to local", seq, ts, m, true, spf)
	// A DTMF event keeps one timestamp across its packets.
	s.tick(spf)
	seq, ts, m = s.nextEvent(true, spf)
	check("event start", seq, ts, m, true, spf)
	seq2, ts2, m2 := s.nextEvent(false, spf)
	if seq2 != seq+1 || ts2 != ts || m2 {
		t.Errorf("event continuation seq %d ts %d marker %v", seq2, ts2, m2)
	}
}
