// Package db is goswitch's mod_db: the db application and API (realm/key/value data) and the
// group application and API (named lists of dial strings that ${group(call:name)} turns into a
// simultaneous or ordered dial string), kept in the switch's embedded database so they outlive a
// restart, as FreeSWITCH keeps them in its core database.
//
// What it does not do: mod_db's limit backend (limit uses the hash backend) and odbc-dsn.
package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/store"
)

const moduleName = "mod_db"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: newModule})
	core.RegisterApp(core.AppInfo{Name: "db", Module: moduleName, Syntax: "[insert|delete]/<realm>/<key>/<val>",
		Short: "Insert to the db", Flags: core.AppRoutingSafe, App: core.AppFunc(dbApp)})
	core.RegisterApp(core.AppInfo{Name: "group", Module: moduleName, Syntax: "[insert|delete]:<group name>:<val>",
		Short: "Manage a group", Flags: core.AppRoutingSafe, App: core.AppFunc(groupApp)})
	core.RegisterAPI(core.APIInfo{Name: "db", Module: moduleName,
		Syntax: "[insert|delete|select|exists|count|list]/<realm>/<key>/<value>", Short: "db get/set", Fn: dbAPI})
	core.RegisterAPI(core.APIInfo{Name: "group", Module: moduleName,
		Syntax: "[insert|delete|call]:<group name>:<url>", Short: "group [insert|delete|call]", Fn: groupAPI})
}

// module holds the database.
type module struct {
	db     *store.DB
	log    *slog.Logger
	limits dbLimits
}

var migrations = []string{
	`CREATE TABLE IF NOT EXISTS db_data (hostname TEXT, realm TEXT, data_key TEXT, data TEXT, PRIMARY KEY (realm, data_key))`,
	`CREATE TABLE IF NOT EXISTS group_data (hostname TEXT, groupname TEXT, url TEXT, PRIMARY KEY (groupname, url))`,
}

func newModule(h *core.Host) (any, error) {
	dir := h.Dirs.DB
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// FreeSWITCH keeps db and group data in the core database: with core-db-dsn on PostgreSQL
	// every node of a cluster sees the same realms and groups.
	path := filepath.Join(dir, "mod_db.db")
	dsn, maxConns := store.CoreDSN(h.Config())
	if store.IsPostgres(dsn) {
		path = dsn
	}
	d, err := store.Open(path, store.Options{MaxConns: maxConns, Log: h.Log})
	if err != nil {
		return nil, err
	}
	if err := d.Migrate("mod_db", migrations...); err != nil {
		d.Close()
		return nil, err
	}
	m := &module{db: d, log: h.Log}
	m.limits.m = m
	if err := m.limits.start(h); err != nil {
		d.Close()
		return nil, err
	}
	return m, nil
}

// Stop flushes and closes the database.
func (m *module) Stop(ctx context.Context) error {
	_ = m.db.Flush(ctx)
	return m.db.Close()
}

func moduleFor(h *core.Host) (*module, error) {
	v, _ := h.Module(moduleName)
	m, _ := v.(*module)
	if m == nil {
		return nil, errors.New(moduleName + " is not loaded")
	}
	return m, nil
}

func (m *module) exec(ctx context.Context, q string, args ...any) error {
	return m.db.Exec(ctx, q, args...)
}

func (m *module) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := m.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// db runs one db command; it returns the API's answer.
func (m *module) dbCommand(ctx context.Context, args string) string {
	f := strings.SplitN(args, "/", 4)
	for len(f) < 4 {
		f = append(f, "")
	}
	cmd, realm, key, val := strings.ToLower(f[0]), f[1], f[2], f[3]
	switch {
	case cmd == "insert" && realm != "" && key != "":
		if err := m.exec(ctx, `INSERT OR REPLACE INTO db_data(hostname, realm, data_key, data) VALUES('', ?, ?, ?)`, realm, key, val); err != nil {
			return "-ERR " + err.Error()
		}
		return "+OK"
	case cmd == "delete" && realm != "" && key != "":
		if err := m.exec(ctx, `DELETE FROM db_data WHERE realm = ? AND data_key = ?`, realm, key); err != nil {
			return "-ERR " + err.Error()
		}
		return "+OK"
	case cmd == "select" && realm != "" && key != "":
		v, err := m.queryStrings(ctx, `SELECT data FROM db_data WHERE realm = ? AND data_key = ?`, realm, key)
		if err != nil {
			return "-ERR " + err.Error()
		}
		if len(v) == 0 {
			return ""
		}
		return v[0]
	case cmd == "exists" && realm != "" && key != "":
		v, err := m.queryStrings(ctx, `SELECT data FROM db_data WHERE realm = ? AND data_key = ?`, realm, key)
		if err != nil {
			return "-ERR " + err.Error()
		}
		return fmt.Sprint(len(v) > 0)
	case cmd == "count":
		q, a := `SELECT COUNT(*) FROM db_data`, []any{}
		if realm != "" {
			q, a = q+` WHERE realm = ?`, append(a, realm)
		}
		v, err := m.queryStrings(ctx, q, a...)
		if err != nil || len(v) == 0 {
			return "0"
		}
		return v[0]
	case cmd == "list" && realm != "":
		v, err := m.queryStrings(ctx, `SELECT data_key FROM db_data WHERE realm = ? ORDER BY data_key`, realm)
		if err != nil {
			return "-ERR " + err.Error()
		}
		return strings.Join(v, ",")
	}
	return "!err!"
}

func dbApp(ctx context.Context, s *core.Session, args string) error {
	m, err := moduleFor(s.Host())
	if err != nil {
		return err
	}
	cmd, _, _ := strings.Cut(args, "/")
	if c := strings.ToLower(cmd); c != "insert" && c != "delete" {
		s.Log().Error("db: USAGE: [insert|delete]/<realm>/<key>/<val>")
		return nil
	}
	if out := m.dbCommand(ctx, args); out != "+OK" {
		s.Log().Error("db: " + out)
	}
	return nil
}

func dbAPI(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	m, err := moduleFor(h)
	if err != nil {
		_, werr := io.WriteString(w, "-ERR "+err.Error())
		return werr
	}
	_, err = io.WriteString(w, m.dbCommand(ctx, strings.TrimSpace(args)))
	return err
}

// groupCommand runs insert, delete or call on a group.
func (m *module) groupCommand(ctx context.Context, args string) string {
	f := strings.SplitN(strings.TrimSpace(args), ":", 3)
	if len(f) < 2 || f[1] == "" {
		return "-ERR USAGE: [insert|delete|call]:<group name>:<url>"
	}
	cmd, group := strings.ToLower(f[0]), f[1]
	arg := ""
	if len(f) > 2 {
		arg = f[2]
	}
	switch cmd {
	case "insert":
		if arg == "" {
			return "-ERR no url"
		}
		if err := m.exec(ctx, `INSERT OR REPLACE INTO group_data(hostname, groupname, url) VALUES('', ?, ?)`, group, arg); err != nil {
			return "-ERR " + err.Error()
		}
		return "+OK"
	case "delete":
		q, a := `DELETE FROM group_data WHERE groupname = ? AND url = ?`, []any{group, arg}
		if arg == "*" || arg == "" {
			q, a = `DELETE FROM group_data WHERE groupname = ?`, []any{group}
		}
		if err := m.exec(ctx, q, a...); err != nil {
			return "-ERR " + err.Error()
		}
		return "+OK"
	case "call":
		urls, err := m.queryStrings(ctx, `SELECT url FROM group_data WHERE groupname = ? ORDER BY `+m.insertOrder(), group)
		if err != nil {
			return "-ERR " + err.Error()
		}
		if len(urls) == 0 {
			return "error/NO_ROUTE_DESTINATION"
		}
		sep := "," // everybody at once
		if strings.EqualFold(arg, "order") {
			sep = "|" // one after the other
		}
		return strings.Join(urls, sep)
	}
	return "-ERR USAGE: [insert|delete|call]:<group name>:<url>"
}

func groupApp(ctx context.Context, s *core.Session, args string) error {
	m, err := moduleFor(s.Host())
	if err != nil {
		return err
	}
	cmd, _, _ := strings.Cut(args, ":")
	if c := strings.ToLower(cmd); c != "insert" && c != "delete" {
		s.Log().Error("group: USAGE: [insert|delete]:<group name>:<val>")
		return nil
	}
	if out := m.groupCommand(ctx, args); out != "+OK" {
		s.Log().Error("group: " + out)
	}
	return nil
}

func groupAPI(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	m, err := moduleFor(h)
	if err != nil {
		_, werr := io.WriteString(w, "-ERR "+err.Error())
		return werr
	}
	_, err = io.WriteString(w, m.groupCommand(ctx, args))
	return err
}

// insertOrder orders group_data rows as they were inserted: SQLite's rowid; PostgreSQL has no
// rowid, and its ctid follows insertion in a table that is only appended to and deleted from.
func (m *module) insertOrder() string {
	if m.db.Backend() == store.Postgres {
		return "ctid"
	}
	return "rowid"
}
