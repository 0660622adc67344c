package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// nopTx is a server transaction that only takes responses.
type nopTx struct{ sip.ServerTransaction }

func (nopTx) Respond(*sip.Response) error { return nil }

func TestMsgStatsCounts(t *testing.T) {
	p := &Profile{}
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "1000", Host: "127.0.0.1"})
	res := sip.NewResponse(200, "OK")
	tx := p.countRequest(req, nopTx{}, false)
	_ = tx.Respond(res)
	_ = p.countRequest(sip.NewRequest("FOO", sip.Uri{Host: "127.0.0.1"}), nopTx{}, false)
	if n := p.msgs.req[methodIndex(sip.INVITE)].Load(); n != 1 {
		t.Errorf("INVITE requests %d", n)
	}
	if n := p.msgs.res[methodIndex(sip.INVITE)][200-firstCode].Load(); n != 1 {
		t.Errorf("INVITE 200s %d", n)
	}
	if n := p.msgs.req[otherIndex].Load(); n != 1 {
		t.Errorf("OTHER requests %d", n)
	}
	// The wrapper replaces largeUDPTx's own allocation: one per request, none per response.
	if a := testing.AllocsPerRun(100, func() { _ = p.countRequest(req, nopTx{}, false).Respond(res) }); a > 1 {
		t.Errorf("%v allocations per request+response, want <= 1", a)
	}
}

// BenchmarkMsgStats is the cost of counting one request and its response.
func BenchmarkMsgStats(b *testing.B) {
	p := &Profile{}
	req := sip.NewRequest(sip.SUBSCRIBE, sip.Uri{User: "1000", Host: "127.0.0.1"})
	res := sip.NewResponse(202, "Accepted")
	b.ReportAllocs()
	for b.Loop() {
		_ = p.countRequest(req, nopTx{}, false).Respond(res)
	}
}
