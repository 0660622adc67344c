// Package store is goswitch's database: modernc.org/sqlite (the embedded default, WAL and
// synchronous=NORMAL) or PostgreSQL through jackc/pgx v5 (shared by the nodes of a cluster),
// chosen by the DSN. Both get named, versioned migrations and one batching writer goroutine, so
// many small writes (registrations, CDR rows, voicemail index) cost one transaction per batch.
// Queries are written in SQLite's dialect; dialect.go turns them into PostgreSQL's.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("store: closed")

// DB is one database with its batching writer.
type DB struct {
	db      *sql.DB
	path    string
	backend Backend
	connStr string // pgx connection string (Postgres)
	log     *slog.Logger

	writes chan write
	done   chan struct{}
	stop   chan struct{} // closed by Close: outage retries give up
	retry  time.Duration

	rewrites sync.Map // query -> query in this backend's dialect

	mu     sync.RWMutex
	closed bool

	listeners listeners

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
	// MaxConns sizes the PostgreSQL pool (default 8); FreeSWITCH's "max-db-handles".
	MaxConns int
	// Retry is the pause between attempts while the database is unreachable (default 500ms).
	Retry time.Duration
	// Log receives the WARNING when the database is unreachable (default slog.Default()).
	Log *slog.Logger
}

// Open opens the database dsn names: "pgsql://…" / "postgresql://…" (URL or libpq keywords)
// for PostgreSQL, anything else a SQLite file (created when absent); ":memory:" gives a private
// in-memory SQLite database (one connection, so every query sees the same data).
func Open(dsn string, opts ...Options) (*DB, error) {
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
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	if o.Retry <= 0 {
		o.Retry = 500 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	d := &DB{path: dsn, log: o.Log, retry: o.Retry, writes: make(chan write, o.Queue),
		done: make(chan struct{}), stop: make(chan struct{})}
	var err error
	if cs, ok := pgConnString(dsn); ok {
		d.backend, d.connStr = Postgres, cs
		d.db, err = sql.Open("pgx", cs)
		if err == nil {
			d.db.SetMaxOpenConns(o.MaxConns)
			d.db.SetMaxIdleConns(o.MaxConns)
		}
	} else {
		d.db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", Redact(dsn), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("store: open %s: %w", Redact(dsn), err)
	}
	go d.writer(o.BatchSize)
	return d, nil
}

func openSQLite(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	if path == ":memory:" {
		dsn = "file::memory:?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err == nil && path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	return db, err
}

// SQL returns the underlying handle. Queries on it bypass the dialect rewrite: use Query and
// QueryRow for anything that must run on both backends.
func (d *DB) SQL() *sql.DB { return d.db }

// Path returns the DSN (or file) the database was opened with.
func (d *DB) Path() string { return d.path }

// Backend says which engine this is.
func (d *DB) Backend() Backend { return d.backend }

// Query runs a read in this backend's dialect.
func (d *DB) Query(query string, args ...any) (*sql.Rows, error) {
	return d.QueryContext(context.Background(), query, args...)
}

// QueryContext runs a read in this backend's dialect.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, err := d.rebind(query)
	if err != nil {
		return nil, err
	}
	return d.db.QueryContext(ctx, q, args...)
}

// QueryRow runs a one-row read in this backend's dialect.
func (d *DB) QueryRow(query string, args ...any) *sql.Row {
	return d.QueryRowContext(context.Background(), query, args...)
}

// QueryRowContext runs a one-row read in this backend's dialect.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q, err := d.rebind(query)
	if err != nil {
		q = query // the driver reports the error on Scan
	}
	return d.db.QueryRowContext(ctx, q, args...)
}

// Migrate applies, once per database, the statements registered under name in order: statement
// i runs only if "name#i" is not yet recorded. Append new statements; never edit applied ones.
// On PostgreSQL an advisory lock per name keeps nodes that start together from racing.
func (d *DB) Migrate(name string, stmts ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", name, err)
	}
	defer conn.Close()
	if d.backend == Postgres {
		h := fnv.New64a()
		h.Write([]byte("goswitch-migrate:" + name))
		key := int64(h.Sum64())
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("store: migrate %s: lock: %w", name, err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
	}
	if _, err := conn.ExecContext(ctx, d.migration(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`)); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	sel, _ := d.rebind(`SELECT count(*) FROM schema_migrations WHERE name = ?`)
	ins, _ := d.rebind(`INSERT INTO schema_migrations(name, applied) VALUES(?, ?)`)
	for i, st := range stmts {
		key := fmt.Sprintf("%s#%d", name, i)
		var n int
		if err := conn.QueryRowContext(ctx, sel, key).Scan(&n); err != nil {
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
		if n > 0 {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(d.migration(st)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate %s: %w", key, err)
		}
		if _, err := tx.Exec(ins, key, time.Now().Unix()); err != nil {
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

// Close drains pending writes, stops the writer and closes the database. Writes still failing
// for an unreachable database are given up after one more attempt.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.stop)
	close(d.writes)
	d.mu.Unlock()
	<-d.done
	d.listeners.close()
	return d.db.Close()
}
