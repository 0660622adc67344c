package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// The queries goswitch writes are SQLite's dialect ("?" placeholders, INSERT OR REPLACE,
// INTEGER columns). This file is the one place that turns them into PostgreSQL's: "$n"
// placeholders, INSERT … ON CONFLICT (primary key) DO UPDATE, BIGINT for epochs. Rewrites are
// cached per query text, so the hot path costs one map lookup.

var (
	replaceRE = regexp.MustCompile(`(?is)^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^)]*)\))?\s*(VALUES\b.*)$`)
	integerRE = regexp.MustCompile(`(?i)\bINTEGER\b`)
	rowidRE   = regexp.MustCompile(`(?i)\browid\b`)
)

// rebind returns query in the backend's dialect.
func (d *DB) rebind(query string) (string, error) {
	if d.backend != Postgres || query == "" {
		return query, nil
	}
	if q, ok := d.rewrites.Load(query); ok {
		return q.(string), nil
	}
	q := query
	if m := replaceRE.FindStringSubmatch(q); m != nil {
		up, err := d.upsert(m[1], m[3], m[4])
		if err != nil {
			return "", err
		}
		q = up
	}
	// PostgreSQL has no rowid; ctid orders rows in insertion order for tables never updated,
	// which is what "ORDER BY …, rowid" asks of an append-mostly table.
	q = rowidRE.ReplaceAllString(q, "ctid")
	q = placeholders(q)
	d.rewrites.Store(query, q)
	return q, nil
}

// migration returns a schema statement in the backend's dialect.
func (d *DB) migration(stmt string) string {
	if d.backend != Postgres {
		return stmt
	}
	// Epochs and counters outgrow PostgreSQL's 4-byte INTEGER; SQLite's INTEGER is 8 bytes.
	return integerRE.ReplaceAllString(stmt, "BIGINT")
}

// placeholders turns "?" outside quoted strings into "$1", "$2", ….
func placeholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// upsert builds INSERT … ON CONFLICT (pk) DO UPDATE for INSERT OR REPLACE INTO table [(cols)]
// values: PostgreSQL needs the conflict target and column names, read once from the catalog.
func (d *DB) upsert(table, colList, values string) (string, error) {
	cols, pk, err := d.tableInfo(table)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(colList) != "" {
		cols = cols[:0:0]
		for _, c := range strings.Split(colList, ",") {
			cols = append(cols, strings.TrimSpace(c))
		}
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") " + values
	if len(pk) == 0 {
		return q, nil
	}
	isKey := map[string]bool{}
	for _, k := range pk {
		isKey[strings.ToLower(k)] = true
	}
	var set []string
	for _, c := range cols {
		if !isKey[strings.ToLower(c)] {
			set = append(set, c+" = EXCLUDED."+c)
		}
	}
	if len(set) == 0 {
		return q + " ON CONFLICT (" + strings.Join(pk, ", ") + ") DO NOTHING", nil
	}
	return q + " ON CONFLICT (" + strings.Join(pk, ", ") + ") DO UPDATE SET " + strings.Join(set, ", "), nil
}

func (d *DB) tableInfo(table string) (cols, pk []string, err error) {
	ctx := context.Background()
	rows, err := d.db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, strings.ToLower(table))
	if err != nil {
		return nil, nil, fmt.Errorf("store: columns of %s: %w", table, err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, nil, err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) == 0 {
		return nil, nil, fmt.Errorf("store: no table %s", table)
	}
	rows, err = d.db.QueryContext(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`, strings.ToLower(table))
	if err != nil {
		return nil, nil, fmt.Errorf("store: primary key of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, nil, err
		}
		pk = append(pk, c)
	}
	return cols, pk, rows.Err()
}
