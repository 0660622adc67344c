package store

import (
	"net/url"
	"strings"
)

// Backend names which engine a DSN selects.
type Backend int

const (
	// SQLite is the embedded default: a file path (or ":memory:").
	SQLite Backend = iota
	// Postgres is PostgreSQL through pgx.
	Postgres
)

func (b Backend) String() string {
	if b == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// IsPostgres reports whether a FreeSWITCH DSN (core-db-dsn, odbc-dsn, db-dsn) names PostgreSQL:
// "pgsql://…" or "postgresql://…" ("postgres://" too).
func IsPostgres(dsn string) bool {
	_, ok := pgConnString(dsn)
	return ok
}

// pgConnString turns FreeSWITCH's PostgreSQL DSN forms into a connection string pgx parses.
// FreeSWITCH accepts both a URL ("pgsql://user:pw@host:5432/db") and libpq keywords after the
// scheme ("pgsql://hostaddr=127.0.0.1 dbname=freeswitch user=fs password=”"); pgx reads both
// as long as the URL form carries its postgres:// scheme and the keyword form none at all.
func pgConnString(dsn string) (string, bool) {
	dsn = strings.TrimSpace(dsn)
	lower := strings.ToLower(dsn)
	var rest string
	switch {
	case strings.HasPrefix(lower, "pgsql://"):
		rest = dsn[len("pgsql://"):]
	case strings.HasPrefix(lower, "postgresql://"):
		rest = dsn[len("postgresql://"):]
	case strings.HasPrefix(lower, "postgres://"):
		rest = dsn[len("postgres://"):]
	default:
		return "", false
	}
	if isKeywordForm(rest) {
		return rest, true
	}
	return "postgres://" + rest, true
}

// isKeywordForm: "key=value key=value" rather than "[user@]host[/db][?opts]". A URL's '=' only
// appears after '?', so an '=' before any '/', '@' or '?' means keywords.
func isKeywordForm(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return false
	}
	cut := strings.IndexAny(s, "/@?")
	return cut < 0 || eq < cut
}

// Redact hides a password in a DSN for logs.
func Redact(dsn string) string {
	cs, ok := pgConnString(dsn)
	if !ok {
		return dsn
	}
	if strings.HasPrefix(cs, "postgres://") {
		if u, err := url.Parse(cs); err == nil {
			return u.Redacted()
		}
		return "postgres://…"
	}
	f := strings.Fields(cs)
	for i, kv := range f {
		if strings.HasPrefix(strings.ToLower(kv), "password=") {
			f[i] = "password=xxxxx"
		}
	}
	return strings.Join(f, " ")
}
