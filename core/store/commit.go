package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// unavailable counts failed attempts to reach the database (every backend, every DB of the
// process); metrics exports it as goswitch_store_unavailable_total.
var unavailable atomic.Int64

// Unavailable returns how many write batches found the database unreachable since start.
func Unavailable() int64 { return unavailable.Load() }

// commit runs one batch in one transaction. A statement that fails on its own (a constraint, a
// syntax error) fails alone; on PostgreSQL, where such an error aborts the transaction, the
// batch is rolled back and re-run without it. When the database itself is unreachable the
// batch is kept and retried until it commits (or Close gives up): the node keeps serving from
// memory, says so once with a WARNING, and catches up when the database is back.
func (d *DB) commit(ws []write) {
	errs := make([]error, len(ws))
	down := time.Time{}
	for {
		failed, err := d.tryBatch(ws, errs)
		if failed >= 0 {
			errs[failed] = err
			continue
		}
		if err != nil && d.transient(err) && !d.stopping() {
			unavailable.Add(1)
			if down.IsZero() {
				down = time.Now()
				d.log.Warn("database unreachable; writes queued and retried", "backend", d.backend.String(),
					"dsn", Redact(d.path), "writes", len(ws), "err", err)
			}
			select {
			case <-time.After(d.retry):
			case <-d.stop:
			}
			continue
		}
		if err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
		break
	}
	if !down.IsZero() {
		d.log.Info("database reachable again; queued writes committed", "backend", d.backend.String(),
			"down", time.Since(down).Round(time.Millisecond).String())
	}
	for i, w := range ws {
		d.report(w, errs[i])
	}
}

// tryBatch runs the writes not yet failed (errs[i] == nil). It returns the index of a statement
// that must be dropped and retried without (PostgreSQL), or -1 and the transaction's error.
func (d *DB) tryBatch(ws []write, errs []error) (int, error) {
	tx, err := d.db.Begin()
	if err != nil {
		return -1, err
	}
	for i, w := range ws {
		if w.query == "" || errs[i] != nil {
			continue
		}
		q, err := d.rebind(w.query)
		if err != nil { // not this backend's SQL: fails alone, never retried
			if d.backend == Postgres {
				tx.Rollback()
				return i, err
			}
			errs[i] = err
			continue
		}
		if _, err = tx.Exec(q, w.args...); err == nil {
			continue
		}
		if d.transient(err) {
			tx.Rollback()
			return -1, err
		}
		if d.backend == Postgres {
			tx.Rollback()
			return i, err
		}
		errs[i] = err
	}
	return -1, tx.Commit()
}

func (d *DB) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// transient: the database could not be reached (or is shutting down), as opposed to a statement
// it refused. Only PostgreSQL is remote; a SQLite error is never retried.
func (d *DB) transient(err error) bool {
	if d.backend != Postgres || err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P0x: shutdown / cannot connect now; 53: resources.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "53")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	// pgx reports a connection lost mid-transaction as plain text.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "no such file or directory") // unix socket gone with the server
}
