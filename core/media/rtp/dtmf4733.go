package rtp

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/goswitch/goswitch/core/media"
)

// RFC 4733 telephone-event payload: event(8) E(1) R(1) volume(6) duration(16).

// ErrBadEvent is returned for a malformed telephone-event payload.
var ErrBadEvent = errors.New("media: bad telephone-event payload")

// TelephoneEvent is one decoded RFC 4733 payload.
type TelephoneEvent struct {
	Event    uint8
	End      bool
	Volume   uint8  // -dBm0, 0..63
	Duration uint16 // in RTP timestamp units
}

// ParseTelephoneEvent decodes the first 4 bytes of payload.
func ParseTelephoneEvent(payload []byte) (TelephoneEvent, error) {
	if len(payload) < 4 {
		return TelephoneEvent{}, ErrBadEvent
	}
	return TelephoneEvent{Event: payload[0], End: payload[1]&0x80 != 0, Volume: payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:])}, nil
}

// Marshal writes the 4-byte payload into dst.
func (e TelephoneEvent) Marshal(dst []byte) int {
	dst[0] = e.Event
	dst[1] = e.Volume & 0x3f
	if e.End {
		dst[1] |= 0x80
	}
	binary.BigEndian.PutUint16(dst[2:], e.Duration)
	return 4
}

const eventDigits = "0123456789*#ABCD"

// EventDigit maps an RFC 4733 event code (0-15) to its DTMF key.
func EventDigit(ev uint8) (rune, bool) {
	if int(ev) >= len(eventDigits) {
		return 0, false
	}
	return rune(eventDigits[ev]), true
}

// DigitEvent maps a DTMF key to its RFC 4733 event code.
func DigitEvent(d rune) (uint8, bool) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for i, c := range eventDigits {
		if c == d {
			return uint8(i), true
		}
	}
	return 0, false
}

// dtmfReceiver turns a stream of telephone-event packets into digits: one per event (identified
// by its RTP timestamp), reported when the first end packet arrives, so the three redundant end
// packets count once. An event whose end was lost is reported when the next one starts.
type dtmfReceiver struct {
	rate     int
	active   bool
	ts       uint32
	ev       uint8
	dur      uint16
	endedTS  uint32
	haveDone bool
}

// ingest processes one packet and returns a digit when one completes.
func (r *dtmfReceiver) ingest(ts uint32, payload []byte) (media.DTMF, bool, media.DTMF, bool) {
	var prev media.DTMF
	var havePrev bool
	e, err := ParseTelephoneEvent(payload)
	if err != nil {
		return media.DTMF{}, false, prev, false
	}
	if r.haveDone && ts == r.endedTS {
		return media.DTMF{}, false, prev, false // retransmitted end packet of a finished event
	}
	if r.active && ts != r.ts {
		// A new event began before the old one ended: report the old one now.
		prev = r.digit()
		_, havePrev = DigitEvent(prev.Digit)
		havePrev = havePrev && prev.Digit != 0
		r.active = false
	}
	if !r.active {
		r.active, r.ts, r.ev = true, ts, e.Event
	}
	r.dur = max(r.dur, e.Duration)
	if e.End {
		d := r.digit()
		r.active, r.haveDone, r.endedTS, r.dur = false, true, ts, 0
		if d.Digit == 0 {
			return media.DTMF{}, false, prev, havePrev
		}
		return d, true, prev, havePrev
	}
	return media.DTMF{}, false, prev, havePrev
}

func (r *dtmfReceiver) digit() media.DTMF {
	d, _ := EventDigit(r.ev)
	rate := r.rate
	if rate == 0 {
		rate = 8000
	}
	return media.DTMF{Digit: d, Duration: time.Duration(r.dur) * time.Second / time.Duration(rate), Source: "RTP"}
}

// dtmfSender produces the RFC 4733 packet sequence for queued digits, one step per ptime:
// a first packet with the marker bit, updates with growing duration, three end packets with the
// final duration (RFC 4733 §2.5.1.4), then a gap before the next digit.
type dtmfSender struct {
	queue   []media.DTMF
	cur     media.DTMF
	active  bool
	elapsed uint32 // RTP units sent so far
	total   uint32
	ends    int
	gap     int // ticks of silence still to wait after an event
}

// step returns the payload fields for this tick, whether a packet must be sent, and whether it
// starts an event (marker). ts is the event's RTP timestamp chosen by the caller at start.
func (s *dtmfSender) step(spf uint32, rate int) (ev TelephoneEvent, send, start bool) {
	if !s.active {
		if s.gap > 0 {
			s.gap--
			return ev, false, false
		}
		if len(s.queue) == 0 {
			return ev, false, false
		}
		s.cur = s.queue[0]
		s.queue = s.queue[1:]
		s.active, s.elapsed, s.ends = true, 0, 0
		s.total = uint32(s.cur.Duration * time.Duration(rate) / time.Second)
		s.total = max(s.total, spf)
		start = true
	}
	code, _ := DigitEvent(s.cur.Digit)
	ev = TelephoneEvent{Event: code, Volume: 10}
	if s.elapsed < s.total {
		s.elapsed = min(s.elapsed+spf, s.total)
		ev.Duration = uint16(min(s.elapsed, 0xffff))
		if s.elapsed < s.total {
			return ev, true, start
		}
	}
	ev.Duration = uint16(min(s.total, 0xffff))
	ev.End = true
	s.ends++
	if s.ends >= 3 {
		s.active = false
		s.gap = 2 // ~40 ms between digits
	}
	return ev, true, start
}

func (s *dtmfSender) busy() bool { return s.active || len(s.queue) > 0 || s.gap > 0 }
