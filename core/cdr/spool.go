package cdr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The spool keeps the CDRs the disk refused (full, read-only, permission) in memory and retries
// them every spoolRetry in the order they were reported, so that when space returns every line
// is written once and in order. New CDRs queue behind spooled ones. The bound is generous (a
// day of a busy PBX's CDRs); past it new CDRs are dropped and counted at ERROR. The sqlite table
// has its own queue of rows (INSERT OR REPLACE by uuid, so a retried row is never doubled).
const (
	spoolRetry     = time.Second
	spoolMaxLines  = 100_000
	spoolMaxBytes  = 64 << 20
	spoolMaxRows   = 100_000
	spoolWarnEvery = 10 * time.Second
)

var errStopped = errors.New("cdr_csv: module stopped")

type spooledLine struct{ path, line string }

type spool struct {
	mu       sync.Mutex
	lines    []spooledLine
	bytes    int
	rows     [][]any
	count    atomic.Int64  // len(lines), for the lock-free fast path
	spooled  atomic.Uint64 // CDRs that went through the spool
	dropped  atomic.Uint64 // CDRs lost because the spool was full or the module stopped
	lastWarn time.Time
	lastDrop time.Time
	lastErr  error
	probing  bool // a spooled row is being retried
}

// SpoolPending reports the CSV lines and sqlite rows waiting for the disk.
func (c *CSV) SpoolPending() (lines, rows int) {
	c.spool.mu.Lock()
	defer c.spool.mu.Unlock()
	return len(c.spool.lines), len(c.spool.rows)
}

// SpoolDropped counts CDR lines and rows lost: spool full, or still unwritable at stop.
func (c *CSV) SpoolDropped() uint64 { return c.spool.dropped.Load() }

// Spooled counts the CDR lines and sqlite rows that could not be written at once.
func (c *CSV) Spooled() uint64 { return c.spool.spooled.Load() }

func (c *CSV) status() string {
	lines, rows := c.SpoolPending()
	return fmt.Sprintf("written %d\nspooled %d\npending %d\npending-sqlite %d\ndropped %d\n",
		c.Written(), c.Spooled(), lines, rows, c.SpoolDropped())
}

// write appends line to path, or spools it behind earlier CDRs the disk refused.
func (c *CSV) write(path, line string) {
	sp := &c.spool
	if sp.count.Load() == 0 {
		err := c.writeLine(path, line)
		if err == nil {
			return
		}
		if errors.Is(err, errStopped) {
			sp.dropped.Add(1)
			c.h.Log.Error("cdr_csv: module stopped, CDR not written", "path", path)
			return
		}
		sp.mu.Lock()
		c.pushLine(path, line, err)
		sp.mu.Unlock()
		return
	}
	sp.mu.Lock()
	c.pushLine(path, line, nil)
	sp.mu.Unlock()
}

// pushLine needs spool.mu.
func (c *CSV) pushLine(path, line string, err error) {
	sp := &c.spool
	if len(sp.lines) >= spoolMaxLines || sp.bytes+len(line) > spoolMaxBytes {
		c.dropLocked(path)
		return
	}
	sp.lines = append(sp.lines, spooledLine{path, line})
	sp.bytes += len(line)
	sp.count.Store(int64(len(sp.lines)))
	sp.spooled.Add(1)
	c.warnLocked(err, path)
}

// dropLocked needs spool.mu.
func (c *CSV) dropLocked(what string) {
	sp := &c.spool
	n := sp.dropped.Add(1)
	if now := time.Now(); now.Sub(sp.lastDrop) >= spoolWarnEvery || n == 1 {
		sp.lastDrop = now
		c.h.Log.Error("cdr_csv: CDR spool full, CDRs dropped", "dropped_total", n,
			"pending", len(sp.lines), "pending_sqlite", len(sp.rows), "to", what, "err", sp.lastErr)
	}
}

// warnLocked needs spool.mu; err is nil when the CDR only queued behind others.
func (c *CSV) warnLocked(err error, what string) {
	sp := &c.spool
	if err != nil {
		sp.lastErr = err
	}
	now := time.Now()
	if now.Sub(sp.lastWarn) < spoolWarnEvery {
		return
	}
	sp.lastWarn = now
	c.h.Log.Warn("cdr_csv: CDRs could not be written; spooled in memory, retrying every "+spoolRetry.String(),
		"pending", len(sp.lines), "pending_sqlite", len(sp.rows), "to", what, "err", sp.lastErr)
}

// retrySpool writes spooled lines in order until one fails, then resubmits spooled rows.
func (c *CSV) retrySpool() {
	sp := &c.spool
	sp.mu.Lock()
	done := 0
	var err error
	for _, l := range sp.lines {
		if err = c.writeLine(l.path, l.line); err != nil {
			break
		}
		sp.bytes -= len(l.line)
		done++
	}
	if done > 0 {
		sp.lines = append(sp.lines[:0], sp.lines[done:]...)
		sp.count.Store(int64(len(sp.lines)))
	}
	if err != nil && !errors.Is(err, errStopped) {
		c.warnLocked(err, "")
	}
	var probe []any
	if len(sp.rows) > 0 && !sp.probing { // one row tells whether the database takes writes again
		probe, sp.rows, sp.probing = sp.rows[0], sp.rows[1:], true
	}
	left := len(sp.lines)
	sp.mu.Unlock()
	if done > 0 && left == 0 {
		c.h.Log.Warn("cdr_csv: spooled CDRs written", "lines", done)
	}
	if probe != nil {
		c.probeRow(probe)
	}
}

// probeRow writes one spooled row; when it commits, every other spooled row follows.
func (c *CSV) probeRow(args []any) {
	sp := &c.spool
	then := func(err error) {
		sp.mu.Lock()
		sp.probing = false
		if err != nil {
			sp.rows = append([][]any{args}, sp.rows...)
			c.warnLocked(err, "sqlite")
			sp.mu.Unlock()
			return
		}
		rows := sp.rows
		sp.rows = nil
		sp.mu.Unlock()
		for _, r := range rows {
			c.submitRow(r, false)
		}
	}
	if err := c.db.WriteThen(then, insertSQL, args...); err != nil {
		then(err)
	}
}

// insertRow queues a sqlite row, behind spooled rows when the database has been failing.
func (c *CSV) insertRow(args []any) {
	sp := &c.spool
	sp.mu.Lock()
	if len(sp.rows) > 0 {
		c.pushRowLocked(args, nil, true)
		sp.mu.Unlock()
		return
	}
	sp.mu.Unlock()
	c.submitRow(args, true)
}

// submitRow hands a row to the store's batching writer; fresh is false for a retry.
func (c *CSV) submitRow(args []any, fresh bool) {
	failed := func(err error) {
		if err == nil {
			return
		}
		c.spool.mu.Lock()
		c.pushRowLocked(args, err, fresh)
		c.spool.mu.Unlock()
	}
	if err := c.db.WriteThen(failed, insertSQL, args...); err != nil {
		failed(err)
	}
}

// pushRowLocked needs spool.mu.
func (c *CSV) pushRowLocked(args []any, err error, fresh bool) {
	sp := &c.spool
	if len(sp.rows) >= spoolMaxRows {
		c.dropLocked("sqlite")
		return
	}
	sp.rows = append(sp.rows, args)
	if fresh {
		sp.spooled.Add(1)
	}
	if err != nil {
		c.warnLocked(err, "sqlite")
	}
}

// closeSpool gives the spool a last try before the files close and reports what is lost.
func (c *CSV) closeSpool() {
	c.retrySpool()
	if c.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.db.Flush(ctx)
		cancel()
	}
	sp := &c.spool
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if n := len(sp.lines) + len(sp.rows); n > 0 {
		sp.dropped.Add(uint64(n))
		c.h.Log.Error("cdr_csv: stopping with CDRs that could not be written; they are lost",
			"lines", len(sp.lines), "sqlite_rows", len(sp.rows), "err", sp.lastErr)
		sp.lines, sp.rows, sp.bytes = nil, nil, 0
		sp.count.Store(0)
	}
}
