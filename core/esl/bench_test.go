package esl_test

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/event"
)

// BenchmarkEventsPlain and BenchmarkEventsJSON measure events per second from Bus.Publish to one
// event-socket client over loopback TCP: serialisation, framing, the socket write and the
// client's frame parsing. Events are channel-sized (about 70 headers).
func BenchmarkEventsPlain(b *testing.B) { benchEvents(b, "plain") }

// BenchmarkEventsJSON is BenchmarkEventsPlain with `event json`.
func BenchmarkEventsJSON(b *testing.B) { benchEvents(b, "json") }

func benchEvents(b *testing.B, format string) {
	e := newEnvB(b)
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	r := bufio.NewReaderSize(nc, 256<<10)
	readFrame := func() (string, error) {
		var ct string
		n := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "", err
			}
			if line == "\n" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "Content-Type: "); ok {
				ct = strings.TrimSpace(v)
			}
		}
		if n > 0 {
			if _, err := r.Discard(n); err != nil {
				return "", err
			}
		}
		return ct, nil
	}
	io.WriteString(nc, "auth ClueCon\n\n")
	readFrame()
	readFrame()
	io.WriteString(nc, "event "+format+" CUSTOM bench::x\n\n")
	readFrame()

	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ct, err := readFrame()
			if err != nil {
				return
			}
			if strings.HasPrefix(ct, "text/event-") {
				got.Add(1)
			}
		}
	}()
	proto := e.h.Bus.New(event.Custom, "bench::x")
	for i := 0; i < 60; i++ {
		proto.Add("variable_header_"+strconv.Itoa(i), "value with spaces: sofia/internal/1000@10.0.0.5")
	}
	var st []esl.ListenerStat
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		e.h.Bus.Publish(proto)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st = e.srv.Stats()
		if len(st) == 1 && got.Load()+int64(st[0].Dropped) >= int64(b.N) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/el.Seconds(), "events/s")
	if len(st) == 1 {
		b.ReportMetric(float64(st[0].Dropped), "dropped")
	}
	nc.Close()
	<-done
}
