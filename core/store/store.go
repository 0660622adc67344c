// Package store is goswitch's embedded database: modernc.org/sqlite (driver "sqlite") opened with
// WAL and synchronous=NORMAL, named migrations, and one batching writer goroutine so that many
// small writes (registrations, CDR rows, voicemail index) cost one transaction per batch.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store: closed")

// DB is one sqlite database with its batching writer.
type DB struct {
	db   *sql.DB
	path string

	writes chan write
	done   chan struct{}

	mu     sync.RWMutex
	closed bool

	// OnError, when set before the first write, receives asynchronous write errors.
	OnError func(query string, err error)
}

type write struct {
	query string
	args  []any
	ack   chan error // nil for fire-and-forget
	then  func(error)
}

// Options tune Open.
type Options struct {
	// BatchSize bounds how many writes share one transaction (default 256).
	BatchSize int
	// Queue is the writer's queue length (default 4096); Write blocks when it is full.
	Queue int
}

// Open opens (creating when absent) the database at path. ":memory:" gives a private in-memory
// database (one connection, so every query sees the same data).
func Open(path string, opts ...Options) (*DB, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	if path == ":memory:" {
		dsn = "file::memory:?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	d := &DB{db: db, path: path, writes: make(chan write, o.Queue), done: make(chan struct{})}
	go d.writer(o.BatchSize)
	return d, nil
}

// SQL returns the underlying handle for queries.
func (d *DB) SQL() *sql.DB { return d.db }

// Path returns the file the database lives in.
func (d *DB) Path() string { return d.path }

// Migrate applies, once per database, the statements registered under name in order: statement
// i runs only if "name#i" is not yet recorded. Append new statements; never edit applied ones.
func (d *DB) Migrate(name string, stmts ...string) error {
	if _, err := d.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for i, st := range stmts {
		key := fmt.Sprintf("%s#%d", name, i)
		var n int
		if err := d.db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, key).Scan(&n); err != nil {
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
		if n > 0 {
			continue
		}
		tx, err := d.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(st); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations(name, applied) VALUES(?, ?)`, key, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
	}
	return nil
}

// Write queues a statement for the writer goroutine and returns at once; errors go to OnError.
func (d *DB) Write(query string, args ...any) error {
	return d.enqueue(write{query: query, args: args})
}

// WriteThen queues a statement like Write and calls done with its result once its batch has
// committed (or failed), on the writer goroutine: done must not block. OnError is not called.
func (d *DB) WriteThen(done func(error), query string, args ...any) error {
	return d.enqueue(write{query: query, args: args, then: done})
}

// Exec queues a statement and waits until its batch has committed.
func (d *DB) Exec(ctx context.Context, query string, args ...any) error {
	ack := make(chan error, 1)
	if err := d.enqueue(write{query: query, args: args, ack: ack}); err != nil {
		return err
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every write queued before it has committed.
func (d *DB) Flush(ctx context.Context) error { return d.Exec(ctx, "") }

func (d *DB) enqueue(w write) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	d.writes <- w
	return nil
}

// writer owns every write: it drains the queue into one transaction per batch.
func (d *DB) writer(batch int) {
	defer close(d.done)
	buf := make([]write, 0, batch)
	for w := range d.writes {
		buf = append(buf[:0], w)
	fill:
		for len(buf) < batch {
			select {
			case w, ok := <-d.writes:
				if !ok {
					break fill
				}
				buf = append(buf, w)
			default:
				break fill
			}
		}
		d.commit(buf)
	}
}

func (d *DB) commit(ws []write) {
	tx, err := d.db.Begin()
	if err != nil {
		for _, w := range ws {
			d.report(w, err)
		}
		return
	}
	errs := make([]error, len(ws))
	for i, w := range ws {
		if w.query == "" {
			continue
		}
		if _, err := tx.Exec(w.query, w.args...); err != nil {
			errs[i] = err
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	for i, w := range ws {
		d.report(w, errs[i])
	}
}

func (d *DB) report(w write, err error) {
	if w.ack != nil {
		w.ack <- err
		return
	}
	if w.then != nil {
		w.then(err)
		return
	}
	if err != nil && d.OnError != nil {
		d.OnError(w.query, err)
	}
}

// Close drains pending writes, stops the writer and closes the database.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.writes)
	d.mu.Unlock()
	<-d.done
	return d.db.Close()
}
