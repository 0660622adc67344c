package fifo

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/store"
)

// FreeSWITCH's mod_fifo keeps its outbound members (fifo_member add), waiting callers and
// bridges in its database (fifo.conf odbc-dsn, else the core database): with PostgreSQL every
// node of a cluster sees and dials the same members. goswitch keeps the same three tables: the
// dynamic members live only there (each node's fifo.conf members stay in its memory, as they
// are per-node configuration), fifo_callers and fifo_bridge mirror the node's queues for
// reporting. Columns are FreeSWITCH's (a subset of fifo_outbound's).
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS fifo_outbound (uuid TEXT, fifo_name TEXT NOT NULL, originate_string TEXT NOT NULL,
		simo_count INTEGER NOT NULL DEFAULT 1, use_count INTEGER NOT NULL DEFAULT 0, timeout INTEGER NOT NULL DEFAULT 60,
		lag INTEGER NOT NULL DEFAULT 5, next_avail INTEGER NOT NULL DEFAULT 0, expires INTEGER NOT NULL DEFAULT 0,
		static INTEGER NOT NULL DEFAULT 0, outbound_call_count INTEGER NOT NULL DEFAULT 0,
		outbound_fail_count INTEGER NOT NULL DEFAULT 0, hostname TEXT, taking_calls INTEGER NOT NULL DEFAULT 1,
		ring_count INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (fifo_name, originate_string))`,
	`CREATE TABLE IF NOT EXISTS fifo_callers (fifo_name TEXT NOT NULL, uuid TEXT NOT NULL PRIMARY KEY,
		caller_caller_id_name TEXT, caller_caller_id_number TEXT, timestamp INTEGER, hostname TEXT)`,
	`CREATE TABLE IF NOT EXISTS fifo_bridge (fifo_name TEXT NOT NULL, caller_uuid TEXT NOT NULL PRIMARY KEY,
		caller_caller_id_name TEXT, caller_caller_id_number TEXT, consumer_uuid TEXT NOT NULL,
		consumer_outgoing_uuid TEXT, bridge_start INTEGER, hostname TEXT)`,
}

// fifoDB is the module's database and this node's name in it.
type fifoDB struct {
	db   *store.DB
	host string
}

func openDB(h *core.Host) (*fifoDB, error) {
	dir := h.Dirs.DB
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "fifo.db")
	if dsn := store.ModuleDSN(h.Config(), "fifo.conf"); store.IsPostgres(dsn) {
		path = dsn
	}
	_, maxConns := store.CoreDSN(h.Config())
	d, err := store.Open(path, store.Options{MaxConns: maxConns, Log: h.Log})
	if err != nil {
		return nil, err
	}
	if err := d.Migrate("mod_fifo", migrations...); err != nil {
		d.Close()
		return nil, err
	}
	f := &fifoDB{db: d, host: switchname(h)}
	// A node that stopped with callers or bridges left rows behind; members are kept, as
	// FreeSWITCH keeps them, but their use by this node's calls ended with it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range []string{`DELETE FROM fifo_callers WHERE hostname = ?`, `DELETE FROM fifo_bridge WHERE hostname = ?`} {
		if err := d.Exec(ctx, q, f.host); err != nil {
			d.Close()
			return nil, err
		}
	}
	return f, nil
}

// switchname is the node's name in the tables: switch.conf's switchname, else the host's.
func switchname(h *core.Host) string {
	if snap := h.Config(); snap != nil {
		if cfg := snap.Configuration("switch.conf"); cfg != nil {
			for _, p := range cfg.FindElements("settings/param[@name='switchname']") {
				if v := p.SelectAttrValue("value", ""); v != "" {
					return v
				}
			}
		}
	}
	if v, _ := h.Global("switchname"); v != "" {
		return v
	}
	v, _ := os.Hostname()
	return v
}

func (f *fifoDB) exec(q string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return f.db.Exec(ctx, q, args...)
}

// addMember is "fifo_member add": one row per queue and dial string, replaced when added again.
func (f *fifoDB) addMember(name string, mb *member) error {
	var exp int64
	if !mb.expires.IsZero() {
		exp = mb.expires.Unix()
	}
	return f.exec(`INSERT INTO fifo_outbound (uuid, fifo_name, originate_string, simo_count, timeout, lag, expires, hostname)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (fifo_name, originate_string) DO UPDATE SET simo_count = excluded.simo_count,
		timeout = excluded.timeout, lag = excluded.lag, expires = excluded.expires, hostname = excluded.hostname`,
		uuid.NewString(), name, mb.dial, mb.simo, int(mb.timeout/time.Second), int(mb.lag/time.Second), exp, f.host)
}

// delMember is "fifo_member del"; it reports whether the member existed.
func (f *fifoDB) delMember(name, dial string) (bool, error) {
	var n int
	if err := f.db.QueryRow(`SELECT count(*) FROM fifo_outbound WHERE fifo_name = ? AND originate_string = ?`, name, dial).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, f.exec(`DELETE FROM fifo_outbound WHERE fifo_name = ? AND originate_string = ?`, name, dial)
}

// members returns the stored members of the named queues (all queues when names is nil), by
// queue, dropping the ones whose expiry passed and that no call uses.
func (f *fifoDB) members(ctx context.Context, names []string) (map[string][]*member, error) {
	now := time.Now().Unix()
	_ = f.db.Write(`DELETE FROM fifo_outbound WHERE expires > 0 AND expires <= ? AND use_count <= 0`, now)
	rows, err := f.db.QueryContext(ctx, `SELECT fifo_name, originate_string, simo_count, use_count, timeout, lag,
		next_avail, expires, outbound_call_count, outbound_fail_count FROM fifo_outbound
		WHERE taking_calls = 1 AND (expires = 0 OR expires > ? OR use_count > 0) ORDER BY outbound_call_count, originate_string`, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]*member{}
	for rows.Next() {
		var name string
		var timeout, lag, next, exp int64
		mb := &member{}
		if err := rows.Scan(&name, &mb.dial, &mb.simo, &mb.inUse, &timeout, &lag, &next, &exp, &mb.calls, &mb.fails); err != nil {
			return nil, err
		}
		if names != nil && !want[name] {
			continue
		}
		mb.timeout, mb.lag, mb.stored = time.Duration(timeout)*time.Second, time.Duration(lag)*time.Second, true
		if next > 0 {
			mb.nextAvail = time.Unix(next, 0)
		}
		if exp > 0 {
			mb.expires = time.Unix(exp, 0)
		}
		out[name] = append(out[name], mb)
	}
	return out, rows.Err()
}

// claim takes one of a stored member's simo_count slots for a call from this node, unless every
// slot is in use or the member rests (lag) — atomically, so two nodes never overbook it.
func (f *fifoDB) claim(ctx context.Context, name, dial string) (bool, error) {
	var n int
	err := f.db.QueryRowContext(ctx, `UPDATE fifo_outbound SET use_count = use_count + 1, ring_count = ring_count + 1
		WHERE fifo_name = ? AND originate_string = ? AND taking_calls = 1 AND use_count < simo_count AND next_avail <= ?
		RETURNING use_count`, name, dial, time.Now().Unix()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// answered ends a claimed member's ringing.
func (f *fifoDB) answered(name, dial string) {
	_ = f.db.Write(`UPDATE fifo_outbound SET ring_count = ring_count - 1 WHERE fifo_name = ? AND originate_string = ?`, name, dial)
}

// release gives a claimed slot back after a call (ok) or a failed attempt, and rests the member
// for its lag.
func (f *fifoDB) release(name, dial string, ok bool, lag time.Duration) {
	next := time.Now().Add(lag).Unix()
	if ok {
		_ = f.db.Write(`UPDATE fifo_outbound SET use_count = use_count - 1, outbound_call_count = outbound_call_count + 1,
			next_avail = ? WHERE fifo_name = ? AND originate_string = ?`, next, name, dial)
		return
	}
	_ = f.db.Write(`UPDATE fifo_outbound SET use_count = use_count - 1, ring_count = ring_count - 1,
		outbound_fail_count = outbound_fail_count + 1, next_avail = ? WHERE fifo_name = ? AND originate_string = ?`, next, name, dial)
}

// queued, dequeued, bridged and unbridged keep fifo_callers and fifo_bridge in step with the
// node's queues (FreeSWITCH's rows, for reports and other nodes).
func (f *fifoDB) queued(name string, c *caller) {
	p := c.s.Profile()
	_ = f.db.Write(`INSERT OR REPLACE INTO fifo_callers (fifo_name, uuid, caller_caller_id_name, caller_caller_id_number, timestamp, hostname)
		VALUES (?, ?, ?, ?, ?, ?)`, name, c.s.UUID(), p.CallerIDName, p.CallerIDNumber, c.since.Unix(), f.host)
}

func (f *fifoDB) dequeued(c *caller) {
	_ = f.db.Write(`DELETE FROM fifo_callers WHERE uuid = ?`, c.s.UUID())
}

func (f *fifoDB) bridged(name string, c *caller, consumer *core.Session) {
	p := c.s.Profile()
	out := ""
	if consumer.Var("fifo_outbound_call") == "true" {
		out = consumer.UUID()
	}
	_ = f.db.Write(`INSERT OR REPLACE INTO fifo_bridge (fifo_name, caller_uuid, caller_caller_id_name, caller_caller_id_number,
		consumer_uuid, consumer_outgoing_uuid, bridge_start, hostname) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		name, c.s.UUID(), p.CallerIDName, p.CallerIDNumber, consumer.UUID(), out, time.Now().Unix(), f.host)
}

func (f *fifoDB) unbridged(c *caller) {
	_ = f.db.Write(`DELETE FROM fifo_bridge WHERE caller_uuid = ?`, c.s.UUID())
}

func (f *fifoDB) close(ctx context.Context) {
	_ = f.db.Flush(ctx)
	_ = f.db.Close()
}
