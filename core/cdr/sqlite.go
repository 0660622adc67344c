package cdr

import (
	"path/filepath"
	"strconv"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/store"
)

// sqliteColumns are the CDR fields kept in the optional sqlite table `cdr` (cdr_csv.conf param
// sqlite=true; database <db_dir>/cdr.db or param sqlite-db). Rows are written by the store's
// batching writer, so the table is for querying: Master.csv stays the durable record.
var sqliteColumns = []string{
	"uuid", "bleg_uuid", "direction", "caller_id_name", "caller_id_number", "destination_number",
	"context", "accountcode", "start_stamp", "answer_stamp", "end_stamp", "start_epoch",
	"answer_epoch", "end_epoch", "duration", "billsec", "hangup_cause", "hangup_cause_q850",
	"read_codec", "write_codec", "last_app", "last_arg",
}

var sqliteMigrations = []string{
	`CREATE TABLE IF NOT EXISTS cdr (
		uuid TEXT PRIMARY KEY, bleg_uuid TEXT, direction TEXT, caller_id_name TEXT, caller_id_number TEXT,
		destination_number TEXT, context TEXT, accountcode TEXT, start_stamp TEXT, answer_stamp TEXT,
		end_stamp TEXT, start_epoch INTEGER, answer_epoch INTEGER, end_epoch INTEGER, duration INTEGER,
		billsec INTEGER, hangup_cause TEXT, hangup_cause_q850 INTEGER, read_codec TEXT, write_codec TEXT,
		last_app TEXT, last_arg TEXT)`,
	`CREATE INDEX IF NOT EXISTS cdr_start_epoch ON cdr(start_epoch)`,
	`CREATE INDEX IF NOT EXISTS cdr_accountcode ON cdr(accountcode)`,
}

var insertSQL = func() string {
	q := "INSERT OR REPLACE INTO cdr (" + joinCols() + ") VALUES (?"
	for range sqliteColumns[1:] {
		q += ",?"
	}
	return q + ")"
}()

func joinCols() string {
	s := sqliteColumns[0]
	for _, c := range sqliteColumns[1:] {
		s += "," + c
	}
	return s
}

func openSQLite(h *core.Host, cfg Config) (*store.DB, error) {
	path := cfg.SQLitePath
	if path == "" {
		path = filepath.Join(h.Dirs.DB, "cdr.db")
	}
	db, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate("cdr", sqliteMigrations...); err != nil {
		db.Close()
		return nil, err
	}
	db.OnError = func(_ string, err error) { h.Log.Error("cdr sqlite write", "err", err) }
	return db, nil
}

func (c *CSV) writeSQLite(s *core.Session) {
	args := make([]any, len(sqliteColumns))
	for i, col := range sqliteColumns {
		v := s.Var(col)
		switch col {
		case "direction":
			v = s.Direction().String()
		case "start_epoch", "answer_epoch", "end_epoch", "duration", "billsec", "hangup_cause_q850":
			n, _ := strconv.ParseInt(v, 10, 64)
			args[i] = n
			continue
		}
		args[i] = v
	}
	c.insertRow(args)
}
