package dialplan

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/internal/testconf"
)

const regConf = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan">
    <context name="default">
      <extension name="ten">
        <condition field="destination_number" expression="^(10\d\d)$">
          <action application="bridge" data="user/$1@${domain}"/>
          <anti-action application="hangup"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
`

func newHost(t *testing.T, conf string) *core.Host {
	t.Helper()
	fsys := fstest.MapFS{"freeswitch.xml": {Data: []byte(conf)}}
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{FS: fsys}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRegisteredDialplan(t *testing.T) {
	h := newHost(t, regConf)
	if _, ok := h.Config().Attached(SnapshotKey).(*Dialplan); !ok {
		t.Fatal("compiled dialplan not attached at load")
	}
	dp, ok := h.Dialplan(Name)
	if !ok {
		t.Fatal("XML dialplan not registered")
	}
	s := core.NewSession(h, core.SessionOptions{Name: "test/1", Profile: &core.CallerProfile{DestNumber: "1005", Context: "default"}})
	r, err := dp.Hunt(context.Background(), s, "1005", "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Actions) != 1 || r.Actions[0] != (core.Action{App: "bridge", Data: "user/1005@${domain}", Extension: "ten"}) {
		t.Fatalf("route %+v", r)
	}
	if v := s.Var("DP_MATCH"); v != "ARRAY::1005|:1005" {
		t.Errorf("DP_MATCH %q", v)
	}
	r, err = dp.Hunt(context.Background(), s, "2000", "default")
	if err != nil || len(r.Actions) != 1 || !r.Actions[0].Anti {
		t.Fatalf("anti route %+v %v", r, err)
	}
	if _, err := dp.Hunt(context.Background(), s, "2000", "nosuch"); !errors.Is(err, core.ErrNoRoute) {
		t.Fatalf("want core.ErrNoRoute, got %v", err)
	}
}

func TestBadRegexFailsLoad(t *testing.T) {
	bad := `<document type="freeswitch/xml"><section name="dialplan"><context name="default">
<extension name="x"><condition field="destination_number" expression="^(1"/></extension></context></section></document>`
	fsys := fstest.MapFS{"freeswitch.xml": {Data: []byte(bad)}}
	_, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{FS: fsys}) },
	})
	var xe *xmlconf.Error
	if !errors.As(err, &xe) || xe.Diags[0].Pos.String() != "freeswitch.xml:2" {
		t.Fatalf("want freeswitch.xml:2 error, got %v", err)
	}
}

// BenchmarkHuntSession hunts vanilla's default context on a real core
// session (variables, globals and expansion from core).
func BenchmarkHuntSession(b *testing.B) {
	vanillaDir := testconf.Vanilla(b)
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: vanillaDir}) },
	})
	if err != nil {
		b.Fatal(err)
	}
	dp, _ := h.Dialplan(Name)
	for _, dest := range []string{"9664", "55555"} {
		b.Run(dest, func(b *testing.B) {
			s := core.NewSession(h, core.SessionOptions{Name: "bench/1", Profile: &core.CallerProfile{DestNumber: dest, CallerIDNumber: "1000", Source: "mod_sofia"}})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dp.Hunt(ctx, s, dest, "default"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDialplanTraceAPI(t *testing.T) {
	h := newHost(t, regConf)
	out, err := h.APIOutput(context.Background(), "dialplan_trace", "-cid 1000 -cid-name 'Alice Smith' 1007")
	if err != nil {
		t.Fatal(err)
	}
	want := `Dialplan: sofia/internal/1000@127.0.0.1 parsing [default->ten] continue=false
Dialplan: sofia/internal/1000@127.0.0.1 Regex (PASS) [ten] destination_number(1007) =~ /^(10\d\d)$/ break=on-false
Dialplan: sofia/internal/1000@127.0.0.1 Action bridge(user/1007@${domain})
Action bridge(user/1007@${domain})
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	out, _ = h.APIOutput(context.Background(), "dialplan_trace", "-context nowhere 1")
	if !strings.HasSuffix(out, "-ERR NO_ROUTE_DESTINATION\n") || !strings.Contains(out, "[WARNING] Context nowhere not found") {
		t.Fatalf("no route output %q", out)
	}
	if _, err := h.APIOutput(context.Background(), "dialplan_trace", ""); err == nil {
		t.Fatal("usage error expected")
	}
}
