package cdr

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// BenchmarkReport measures the cost per channel of cdr_csv: expanding the template and appending
// to Master.csv and the accountcode file (fsync batched every second, as configured by default).
func BenchmarkReport(b *testing.B) {
	dir := b.TempDir()
	doc := `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration" description="c"></section>
</document>`
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(doc), 0o644); err != nil {
		b.Fatal(err)
	}
	h, err := core.NewHost(core.HostOptions{
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Dirs: core.Dirs{Log: dir},
		Load: func() (*xmlconf.Snapshot, error) { return xmlconf.Load(xmlconf.Options{Dir: dir}) },
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := ParseConfig(nil, dir)
	c := New(h, cfg)
	defer c.Close()
	s := core.NewSession(h, core.SessionOptions{Name: "sofia/internal/1000@10.0.0.5", Direction: core.Inbound,
		Profile: &core.CallerProfile{CallerIDName: "Alice", CallerIDNumber: "1000", DestNumber: "2000", Context: "default"},
		Vars: [][2]string{{"accountcode", "1000"}, {"start_stamp", time.Now().Format("2006-01-02 15:04:05")},
			{"answer_stamp", time.Now().Format("2006-01-02 15:04:05")}, {"end_stamp", time.Now().Format("2006-01-02 15:04:05")},
			{"duration", "12"}, {"billsec", "10"}, {"hangup_cause", "NORMAL_CLEARING"}}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.report(s)
	}
	b.StopTimer()
	c.Sync()
}
