package store

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls fn with the payload of every Notify on channel, from any node sharing this
// database: PostgreSQL LISTEN/NOTIFY on one dedicated pgx connection (re-established, and
// re-LISTENed, after an outage); on SQLite, which only one node uses, in-process after commit.
// fn runs on the listener goroutine and must not block.
func (d *DB) Listen(channel string, fn func(payload string)) {
	d.listeners.add(d, channel, fn)
}

// Notify queues a notification on channel; it is sent when its batch commits, after the writes
// queued before it, so a listener that reads the database sees them.
func (d *DB) Notify(channel, payload string) error {
	if d.backend == Postgres {
		return d.Write(`SELECT pg_notify(?, ?)`, channel, payload)
	}
	return d.WriteThen(func(err error) {
		if err == nil {
			d.listeners.deliver(channel, payload)
		}
	}, "")
}

type listeners struct {
	mu     sync.Mutex
	subs   map[string][]func(string)
	kick   context.CancelFunc // restarts the PostgreSQL session to LISTEN a new channel
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (l *listeners) add(d *DB, channel string, fn func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs == nil {
		l.subs = map[string][]func(string){}
	}
	l.subs[channel] = append(l.subs[channel], fn)
	if d.backend != Postgres {
		return
	}
	if l.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		l.wg.Add(1)
		go l.run(ctx, d)
	} else if l.kick != nil {
		l.kick()
	}
}

func (l *listeners) deliver(channel, payload string) {
	l.mu.Lock()
	fns := append([]func(string){}, l.subs[channel]...)
	l.mu.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
}

func (l *listeners) channels() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.subs))
	for c := range l.subs {
		out = append(out, c)
	}
	return out
}

func (l *listeners) close() {
	l.mu.Lock()
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		l.wg.Wait()
	}
}

// run keeps one LISTENing session: connect, LISTEN every channel, wait; on any failure warn,
// count, and reconnect after the retry pause.
func (l *listeners) run(ctx context.Context, d *DB) {
	defer l.wg.Done()
	warned := false
	for ctx.Err() == nil {
		err := l.session(ctx, d)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			unavailable.Add(1)
			if !warned {
				d.log.Warn("database notifications lost; reconnecting", "dsn", Redact(d.path), "err", err)
				warned = true
			}
			select {
			case <-time.After(d.retry):
			case <-ctx.Done():
				return
			}
			continue
		}
		warned = false
	}
}

// session returns nil when kicked (a new channel), an error when the connection failed.
func (l *listeners) session(ctx context.Context, d *DB) error {
	sctx, kick := context.WithCancel(ctx)
	defer kick()
	l.mu.Lock()
	l.kick = kick
	l.mu.Unlock()
	conn, err := pgx.Connect(sctx, d.connStr)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, c := range l.channels() {
		if _, err := conn.Exec(sctx, "LISTEN "+pgx.Identifier{c}.Sanitize()); err != nil {
			return err
		}
	}
	for {
		n, err := conn.WaitForNotification(sctx)
		if err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				return nil // kicked
			}
			return err
		}
		l.deliver(n.Channel, n.Payload)
	}
}
