// Package cdr is FreeSWITCH's mod_cdr_csv: one line per channel, expanded from a template, appended
// to <log-base>/cdr-csv/Master.csv and <accountcode>.csv in CS_REPORTING.
//
// Durability: the line is written with write(2) on an O_APPEND file descriptor on the session
// goroutine before CHANNEL_HANGUP_COMPLETE is published and before the channel is destroyed, so
// a crash of the process (kill -9) loses nothing that was reported. The files are fsynced in
// batches every SyncInterval (default 1 s, param fsync-interval-ms; 0 fsyncs every line), so a
// crash of the machine loses at most the last SyncInterval of CDRs. A line the disk refuses
// (full, read-only, permission) is not lost: it waits in a bounded in-memory spool, with a
// WARNING, and is retried every second; later lines queue behind it, so when space returns every
// line is written once and in order (spool.go; `cdr_csv status` shows the counters).
package cdr

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// ModuleName is the FreeSWITCH module name.
const ModuleName = "mod_cdr_csv"

// DefaultTemplate is mod_cdr_csv's built-in "default" template, with its stray space before the
// last field.
const DefaultTemplate = `"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}"` + "\n"

// FallbackTemplate is used when default-template names no template. Like FreeSWITCH it has no
// trailing newline.
const FallbackTemplate = `"${accountcode}","${caller_id_number}","${destination_number}","${context}","${caller_id}","${channel_name}","${bridge_channel}","${last_app}","${last_arg}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${amaflags}","${uuid}","${userfield}";`

// DefaultSyncInterval is the fsync batching window.
const DefaultSyncInterval = time.Second

// maxFileSize rotates a file before it would pass 4 GiB (FreeSWITCH: UINT_MAX).
const maxFileSize = 1<<32 - 1

func init() {
	core.RegisterModule(core.ModuleInfo{
		Name: ModuleName,
		New: func(h *core.Host) (any, error) {
			cfg, err := ParseConfig(h.Config(), h.Dirs.Log)
			if err != nil {
				return nil, err
			}
			return New(h, cfg), nil
		},
		Compile: func(snap *xmlconf.Snapshot) (any, error) { return ParseConfig(snap, "") },
	})
	core.RegisterAPI(core.APIInfo{Name: "cdr_csv", Syntax: "rotate|status", Short: "cdr_csv controls", Module: ModuleName,
		Fn: func(_ context.Context, h *core.Host, args string, w io.Writer) error {
			c, ok := FromHost(h)
			if ok && strings.TrimSpace(args) == "status" {
				_, err := io.WriteString(w, c.status())
				return err
			}
			if !ok || strings.TrimSpace(args) != "rotate" {
				_, err := io.WriteString(w, "-USAGE: cdr_csv rotate|status\n")
				return err
			}
			c.RotateAll()
			_, err := io.WriteString(w, "+OK")
			return err
		}})
}

// Config is cdr_csv.conf.
type Config struct {
	Dir             string            // log-base + "/cdr-csv"
	DefaultTemplate string            // default-template name, "default" when unset
	Templates       map[string]string // name -> text, each ending in "\n"
	RotateOnHup     bool
	LegA, LegB      bool
	MasterFileOnly  bool
	Debug           bool
	SyncInterval    time.Duration
	SQLite          bool   // also keep a sqlite table `cdr` (param sqlite)
	SQLitePath      string // param sqlite-db or db-dsn (a pgsql:// DSN too), default <db_dir>/cdr.db
}

// ParseConfig reads cdr_csv.conf; logDir is the default log-base.
func ParseConfig(snap *xmlconf.Snapshot, logDir string) (Config, error) {
	cfg := Config{
		Dir: filepath.Join(logDir, "cdr-csv"), Templates: map[string]string{"default": DefaultTemplate},
		LegA: true, SyncInterval: DefaultSyncInterval,
	}
	if snap == nil {
		cfg.DefaultTemplate = "default"
		return cfg, nil
	}
	el := snap.Configuration("cdr_csv.conf")
	if el != nil {
		for _, p := range el.FindElements("settings/param") {
			name, val := strings.ToLower(p.SelectAttrValue("name", "")), p.SelectAttrValue("value", "")
			switch name {
			case "debug":
				cfg.Debug = core.True(val)
			case "legs":
				cfg.LegA, cfg.LegB = strings.Contains(val, "a"), strings.Contains(val, "b")
			case "log-base":
				cfg.Dir = filepath.Join(val, "cdr-csv")
			case "rotate-on-hup":
				cfg.RotateOnHup = core.True(val)
			case "default-template":
				cfg.DefaultTemplate = val
			case "master-file-only":
				cfg.MasterFileOnly = core.True(val)
			case "sqlite":
				cfg.SQLite = core.True(val)
			case "sqlite-db", "db-dsn":
				// db-dsn may name PostgreSQL (pgsql://...): a cluster's nodes share one cdr table.
				cfg.SQLitePath = val
			case "fsync-interval-ms":
				n, err := strconv.Atoi(val)
				if err != nil || n < 0 {
					return cfg, fmt.Errorf("%v: cdr_csv.conf: invalid fsync-interval-ms %q", snap.Pos(p), val)
				}
				cfg.SyncInterval = time.Duration(n) * time.Millisecond
			}
		}
		for _, t := range el.FindElements("templates/template") {
			name := t.SelectAttrValue("name", "")
			if name == "" {
				continue
			}
			txt := t.Text()
			if !strings.HasSuffix(txt, "\n") {
				txt += "\n"
			}
			cfg.Templates[name] = txt
		}
	}
	if cfg.DefaultTemplate == "" {
		cfg.DefaultTemplate = "default"
	}
	return cfg, nil
}

// CSV is the running cdr_csv module.
type CSV struct {
	h   *core.Host
	cfg atomic.Pointer[Config]

	mu     sync.Mutex
	files  map[string]*file
	closed bool

	written atomic.Uint64
	db      *store.DB // optional sqlite table
	spool   spool     // lines and rows waiting for the disk

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type file struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	bytes int64
	dirty bool
}

// New builds the writer and hooks it into h's CS_REPORTING. Start launches the fsync batcher and
// the SIGHUP (TRAP) listener; Stop flushes and closes.
func New(h *core.Host, cfg Config) *CSV {
	c := &CSV{h: h, files: map[string]*file{}}
	c.cfg.Store(&cfg)
	if cfg.SQLite {
		db, err := openSQLite(h, cfg)
		if err != nil {
			h.Log.Error("cdr_csv: sqlite table disabled", "err", err)
		} else {
			c.db = db
		}
	}
	h.OnReporting(c.report)
	return c
}

// DB returns the sqlite CDR database, or nil when the table is off.
func (c *CSV) DB() *store.DB { return c.db }

// FromHost returns the host's mod_cdr_csv instance.
func FromHost(h *core.Host) (*CSV, bool) {
	m, ok := h.Module(ModuleName)
	if !ok {
		return nil, false
	}
	c, ok := m.(*CSV)
	return c, ok
}

// Config returns the configuration in force.
func (c *CSV) Config() Config { return *c.cfg.Load() }

// Written counts the lines written since start.
func (c *CSV) Written() uint64 { return c.written.Load() }

// Start implements core.Starter.
func (c *CSV) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	sub := c.h.Bus.SubscribeTo(event.Interest{Names: []string{event.Trap}}, func(e *event.Event) bool {
		return e.Get("Trapped-Signal") == "HUP"
	}, 16)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer sub.Close()
		iv := c.Config().SyncInterval
		retry := time.NewTicker(spoolRetry)
		defer retry.Stop()
		var tick <-chan time.Time
		if iv > 0 {
			t := time.NewTicker(iv)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.C():
				c.RotateAll()
			case <-tick:
				c.Sync()
			case <-retry.C:
				c.retrySpool()
			}
		}
	}()
	return nil
}

// Stop implements core.Stopper: fsync and close every file.
func (c *CSV) Stop(context.Context) error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	return c.Close()
}

// Reload implements core.Reloader: templates and settings take effect for the next CDR.
func (c *CSV) Reload(snap *xmlconf.Snapshot) error {
	cfg, err := ParseConfig(snap, c.h.Dirs.Log)
	if err != nil {
		return err
	}
	c.cfg.Store(&cfg)
	return nil
}

// Close fsyncs and closes the files; later CDRs are dropped. CDRs still spooled get a last
// try; any that cannot be written are reported at ERROR.
func (c *CSV) Close() error {
	c.closeSpool()
	c.mu.Lock()
	if c.db != nil && !c.closed {
		if err := c.db.Close(); err != nil {
			c.h.Log.Error("cdr sqlite close", "err", err)
		}
	}
	c.closed = true
	files := c.files
	c.files = map[string]*file{}
	c.mu.Unlock()
	var first error
	for _, f := range files {
		f.mu.Lock()
		if f.f != nil {
			if err := f.f.Sync(); err != nil && first == nil {
				first = err
			}
			if err := f.f.Close(); err != nil && first == nil {
				first = err
			}
			f.f = nil
		}
		f.mu.Unlock()
	}
	return first
}

// Sync fsyncs every file written since the last Sync.
func (c *CSV) Sync() {
	for _, f := range c.fileList() {
		f.mu.Lock()
		if f.dirty && f.f != nil {
			if err := f.f.Sync(); err != nil {
				c.h.Log.Error("cdr_csv: fsync", "path", f.path, "err", err)
			}
			f.dirty = false
		}
		f.mu.Unlock()
	}
}

func (c *CSV) fileList() []*file {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*file, 0, len(c.files))
	for _, f := range c.files {
		out = append(out, f)
	}
	return out
}

// RotateAll renames every open file to <name>.YYYY-MM-DD-HH-MM-SS (local time) and reopens it
// when rotate-on-hup is set, else just reopens it (after an external logrotate).
func (c *CSV) RotateAll() {
	rotate := c.Config().RotateOnHup
	for _, f := range c.fileList() {
		f.mu.Lock()
		c.rotate(f, rotate)
		f.mu.Unlock()
	}
}

// rotate needs f.mu.
func (c *CSV) rotate(f *file, rename bool) {
	if f.f != nil {
		_ = f.f.Sync()
		_ = f.f.Close()
		f.f = nil
	}
	if rename {
		to := f.path + "." + time.Now().Format("2006-01-02-15-04-05")
		if err := os.Rename(f.path, to); err != nil && !os.IsNotExist(err) {
			c.h.Log.Error("cdr_csv: rotate", "path", f.path, "err", err)
		}
	}
	if err := c.open(f); err != nil {
		c.h.Log.Error("Error opening "+f.path, "err", err)
		e := c.h.Bus.New(event.Trap, "")
		e.Add("Critical-Error", "Error opening cdr file "+f.path+"\n")
		c.h.Bus.Publish(e)
		return
	}
	verb := "Re-opened"
	if rename {
		verb = "Rotated"
	}
	c.h.Log.Log(context.Background(), 2, verb+" CDR logfile "+f.path)
}

// open needs f.mu.
func (c *CSV) open(f *file) error {
	fd, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return err
	}
	f.f, f.bytes = fd, st.Size()
	return nil
}

// writeLine appends line to path; on error nothing of the line stays in the file.
func (c *CSV) writeLine(path, line string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errStopped
	}
	f, ok := c.files[path]
	if !ok {
		f = &file{path: path}
		c.files[path] = f
	}
	c.mu.Unlock()

	sync := c.Config().SyncInterval == 0
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		_ = os.MkdirAll(filepath.Dir(path), 0o755)
		if err := c.open(f); err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
	}
	if f.bytes+int64(len(line)) > maxFileSize {
		c.rotate(f, true)
		if f.f == nil {
			return fmt.Errorf("rotating %s failed", path)
		}
	}
	n, err := f.f.WriteString(line)
	if err != nil {
		if n > 0 { // a torn line (disk full): take it back so the retry writes it whole
			if terr := f.f.Truncate(f.bytes); terr != nil {
				c.h.Log.Error(fmt.Sprintf("Write error to file %s %d/%d, partial line left", path, n, len(line)), "err", terr)
				f.bytes += int64(n)
			}
		}
		return fmt.Errorf("write error to file %s %d/%d: %w", path, n, len(line), err)
	}
	f.bytes += int64(n)
	f.dirty = true
	if sync {
		_ = f.f.Sync()
		f.dirty = false
	}
	c.written.Add(1)
	return nil
}

// wanted applies legs, process_cdr and skip_cdr_causes.
func (c *CSV) wanted(s *core.Session, cfg *Config) bool {
	hasOriginator := s.Originator() != nil
	if !(cfg.LegA && cfg.LegB) {
		if cfg.LegA && hasOriginator {
			return false
		}
		if !cfg.LegA && s.Originatee() != nil {
			return false
		}
	}
	switch strings.ToLower(s.Var("process_cdr")) {
	case "false":
		return false
	case "a_only":
		if hasOriginator {
			return false
		}
	case "b_only":
		if !hasOriginator {
			return false
		}
	}
	if skip := s.Var("skip_cdr_causes"); skip != "" {
		cause := s.HangupCause()
		for _, name := range strings.Split(skip, "|") {
			if c, ok := core.LookupCause(name); ok && c == cause {
				return false
			}
		}
	}
	return true
}

// report is the CS_REPORTING hook (my_on_reporting).
func (c *CSV) report(s *core.Session) {
	cfg := c.cfg.Load()
	if !c.wanted(s, cfg) {
		return
	}
	dir := cfg.Dir
	if v := s.Var("cdr_csv_base"); v != "" {
		dir = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.h.Log.Debug("Error creating "+dir+" (the CDR is spooled)", "err", err)
	}
	if cfg.Debug {
		e := c.h.Bus.New(event.ChannelData, "")
		s.FillEvent(e, true)
		s.Log().Info("CHANNEL_DATA:\n" + string(e.Plain()))
	}
	g, ok := cfg.Templates[cfg.DefaultTemplate]
	if !ok {
		g = FallbackTemplate
	}
	a := g
	acct := firstNonEmpty(s.Var("accountcode"), s.Var("ACCOUNTCODE"))
	if acct != "" {
		if t, ok := cfg.Templates[acct]; ok {
			a = t
		}
	}
	line := s.Expand(a)
	// An accountcode naming another directory would write outside log-base.
	if acct != "" && !cfg.MasterFileOnly && !strings.ContainsAny(acct, `/\`) && acct != ".." {
		c.write(filepath.Join(dir, acct+".csv"), line)
	}
	if a != g {
		line = s.Expand(g)
	}
	c.write(filepath.Join(dir, "Master.csv"), line)
	if c.db != nil {
		c.writeSQLite(s)
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
