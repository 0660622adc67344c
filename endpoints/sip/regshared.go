package sip

import (
	"net/url"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/goswitch/goswitch/core/store"
)

// Cluster registrations. With a PostgreSQL store (sofia odbc-dsn or core-db-dsn) the
// sip_registrations table is shared by every node behind the proxy: each row says which node
// took it (hostname, FreeSWITCH's column) and the Path (RFC 3327) the REGISTER came through, and
// user/ lookups read the table, so a phone registered through node A is callable from node B,
// and is still there when node A is gone. SQLite keeps the in-memory cache as the only reader.

var regClusterSchema = []string{
	`ALTER TABLE sip_registrations ADD COLUMN hostname TEXT`,
	`ALTER TABLE sip_registrations ADD COLUMN path TEXT`,
	// user/ lookups on the shared table go by AoR, case-insensitively.
	`CREATE INDEX sip_registrations_aor ON sip_registrations (lower(sip_user), lower(sip_host))`,
}

const regColumns = `call_id, sip_user, sip_host, profile_name, contact, contact_uri, expires,
	network_ip, network_port, network_proto, user_agent, auth_user, realm, nat, hostname, path`

// nodeName is this node's identity in shared rows: switch.conf's switchname, else the
// switchname global (the host name), else the core UUID.
func (e *Endpoint) nodeName() string {
	if snap := e.h.Config(); snap != nil {
		if cfg := snap.Configuration("switch.conf"); cfg != nil {
			for _, p := range cfg.FindElements("settings/param[@name='switchname']") {
				if v := p.SelectAttrValue("value", ""); v != "" {
					return v
				}
			}
		}
	}
	if v, ok := e.h.Global("switchname"); ok && v != "" {
		return v
	}
	return e.h.CoreUUID
}

// sharedLookup reads user@host's live registrations from a shared (PostgreSQL) store. ok is
// false on SQLite, or when the database is unreachable: the caller answers from its cache.
func (r *registry) sharedLookup(user, host string) ([]*Registration, bool) {
	if r.db.Backend() != store.Postgres {
		return nil, false
	}
	rows, err := r.db.Query(`SELECT `+regColumns+` FROM sip_registrations
		WHERE lower(sip_user) = lower(?) AND lower(sip_host) = lower(?) AND expires > ? ORDER BY expires`,
		user, host, time.Now().Unix())
	if err != nil {
		r.e.log.Warn("shared registrations unreachable; answering from this node's cache", "err", err)
		return nil, false
	}
	defer rows.Close()
	var out []*Registration
	for rows.Next() {
		reg, err := scanReg(rows)
		if err != nil {
			return nil, false
		}
		out = append(out, reg)
	}
	if rows.Err() != nil {
		return nil, false
	}
	return out, true
}

type scanner interface{ Scan(dest ...any) error }

func scanReg(rows scanner) (*Registration, error) {
	var reg Registration
	var exp int64
	var nat int
	var node, path *string
	if err := rows.Scan(&reg.CallID, &reg.User, &reg.Host, &reg.Profile, &reg.Contact, &reg.ContactURI, &exp,
		&reg.NetworkIP, &reg.NetworkPort, &reg.Transport, &reg.UserAgent, &reg.AuthUser, &reg.Realm, &nat, &node, &path); err != nil {
		return nil, err
	}
	reg.Expires = time.Unix(exp, 0)
	reg.NAT = nat != 0
	if node != nil {
		reg.Node = *node
	}
	if path != nil {
		reg.Path = *path
	}
	return &reg, nil
}

// pathOf is the REGISTER's Path header values, in order, comma-joined.
func pathOf(req *sip.Request) string {
	var parts []string
	for _, h := range req.GetHeaders("Path") {
		if v := strings.TrimSpace(h.Value()); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ",")
}

// fsPathParam carries a registration's Path in its dial URI the way FreeSWITCH's sofia_contact
// does (";fs_path=<escaped>"); the outbound leg turns it back into a Route set.
func fsPathParam(path string) string {
	if path == "" {
		return ""
	}
	return ";fs_path=" + url.QueryEscape(path)
}

// takeFSPath removes fs_path from a target URI and returns the Route values it carried.
func takeFSPath(u *sip.Uri) []string {
	if u.UriParams == nil {
		return nil
	}
	v, ok := u.UriParams.Get("fs_path")
	if !ok {
		return nil
	}
	u.UriParams.Remove("fs_path")
	path, err := url.QueryUnescape(v)
	if err != nil {
		return nil
	}
	return splitPath(path)
}

// splitPath is a stored Path's Route values, in order.
func splitPath(path string) []string {
	var out []string
	for _, p := range strings.Split(path, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
