package db

import (
	"context"
	"sync"
	"time"

	"github.com/goswitch/goswitch/apps/limit"
	"github.com/goswitch/goswitch/core"
)

// mod_db's limit backend ("limit db <realm> <id> <max>"): one limit_data row per channel and
// key, counted across every node that shares the core database, so on PostgreSQL a limit holds
// for the whole cluster. Like FreeSWITCH's it counts concurrent channels only (no /interval),
// and a node clears its own rows at start: they belong to channels a crash ended.

var limitMigrations = []string{
	`CREATE TABLE IF NOT EXISTS limit_data (hostname TEXT, realm TEXT, id TEXT, uuid TEXT)`,
	`CREATE INDEX IF NOT EXISTS limit_data_realm_id ON limit_data (realm, id)`,
	`CREATE INDEX IF NOT EXISTS limit_data_uuid ON limit_data (uuid)`,
}

func init() {
	limit.RegisterBackend("db", func(h *core.Host) limit.Backend {
		m, err := moduleFor(h)
		if err != nil {
			return nil
		}
		return &m.limits
	})
}

type dbLimits struct {
	m    *module
	node string
	mu   sync.Mutex
	held map[string]bool // uuids with rows
}

// switchname is the node's name in limit_data: switch.conf's switchname, else the host's.
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
	v, _ := h.Global("switchname")
	return v
}

func (l *dbLimits) start(h *core.Host) error {
	l.node, l.held = switchname(h), map[string]bool{}
	if err := l.m.db.Migrate("mod_db_limit", limitMigrations...); err != nil {
		return err
	}
	return l.exec(`DELETE FROM limit_data WHERE hostname = ?`, l.node)
}

func (l *dbLimits) exec(q string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.m.db.Exec(ctx, q, args...)
}

// Incr counts s against realm/id unless max are in use already.
func (l *dbLimits) Incr(s *core.Session, realm, id string, max int, interval time.Duration) (bool, bool) {
	if interval > 0 {
		s.Log().Error("limit db does not do rate limits (" + realm + "/" + id + "); use hash")
		return false, false
	}
	n := l.Usage(realm, id)
	if max >= 0 && n >= max {
		limit.SetUsage(s, realm, id, n)
		return false, false
	}
	if err := l.exec(`INSERT INTO limit_data (hostname, realm, id, uuid) VALUES (?, ?, ?, ?)`, l.node, realm, id, s.UUID()); err != nil {
		s.Log().Error("limit db: " + err.Error())
		return false, false
	}
	limit.SetUsage(s, realm, id, n+1)
	l.mu.Lock()
	first := !l.held[s.UUID()]
	l.held[s.UUID()] = true
	l.mu.Unlock()
	return true, first
}

// Release drops uuid's rows (of one key, or all).
func (l *dbLimits) Release(uuid, realm, id string) {
	var err error
	if realm == "" {
		err = l.exec(`DELETE FROM limit_data WHERE uuid = ?`, uuid)
		l.mu.Lock()
		delete(l.held, uuid)
		l.mu.Unlock()
	} else {
		err = l.exec(`DELETE FROM limit_data WHERE uuid = ? AND realm = ? AND id = ?`, uuid, realm, id)
	}
	if err != nil {
		l.m.log.Error("limit db release", "err", err)
	}
}

// Usage counts realm/id's rows on every node.
func (l *dbLimits) Usage(realm, id string) int {
	var n int
	_ = l.m.db.QueryRow(`SELECT count(*) FROM limit_data WHERE realm = ? AND id = ?`, realm, id).Scan(&n)
	return n
}
