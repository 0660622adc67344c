package voicemail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/store"
)

const moduleName = "mod_voicemail"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: func(h *core.Host) (any, error) { return &Module{h: h, dbs: map[string]*store.DB{}}, nil }})
}

// schema is mod_voicemail's sqlite layout.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS voicemail_msgs (
		created_epoch INTEGER, read_epoch INTEGER, username VARCHAR(255), domain VARCHAR(255),
		uuid VARCHAR(255), cid_name VARCHAR(255), cid_number VARCHAR(255), in_folder VARCHAR(255),
		file_path VARCHAR(255), message_len INTEGER, flags VARCHAR(255), read_flags VARCHAR(255),
		forwarded_by VARCHAR(255))`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx1 ON voicemail_msgs(created_epoch)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx2 ON voicemail_msgs(username)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx3 ON voicemail_msgs(domain)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx4 ON voicemail_msgs(uuid)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx5 ON voicemail_msgs(in_folder)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx6 ON voicemail_msgs(read_flags)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx7 ON voicemail_msgs(forwarded_by)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx8 ON voicemail_msgs(read_epoch)`,
	`CREATE INDEX IF NOT EXISTS voicemail_msgs_idx9 ON voicemail_msgs(flags)`,
	`CREATE TABLE IF NOT EXISTS voicemail_prefs (
		username VARCHAR(255), domain VARCHAR(255), name_path VARCHAR(255),
		greeting_path VARCHAR(255), password VARCHAR(255))`,
	`CREATE INDEX IF NOT EXISTS voicemail_prefs_idx1 ON voicemail_prefs(username)`,
	`CREATE INDEX IF NOT EXISTS voicemail_prefs_idx2 ON voicemail_prefs(domain)`,
}

// Module owns the per-profile databases and the MESSAGE_QUERY listener.
type Module struct {
	h *core.Host

	mu  sync.Mutex
	dbs map[string]*store.DB

	stop chan struct{}
	done chan struct{}
}

// Of returns the voicemail module of a host, or nil.
func Of(h *core.Host) *Module {
	v, ok := h.Module(moduleName)
	if !ok {
		return nil
	}
	m, _ := v.(*Module)
	return m
}

// Start answers MESSAGE_QUERY events (sent on REGISTER/SUBSCRIBE) with a MESSAGE_WAITING count.
func (m *Module) Start(ctx context.Context) error {
	sub := m.h.Bus.SubscribeTo(event.Interest{Names: []string{event.MessageQuery}}, nil, 64)
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	m.recoverPartial(ctx)
	go func() {
		defer close(m.done)
		defer sub.Close()
		for {
			var e *event.Event
			select {
			case <-m.stop:
				return
			case e = <-sub.C():
			}
			acct := strings.TrimPrefix(e.Get("Message-Account"), "sip:")
			id, domain, ok := strings.Cut(acct, "@")
			if !ok {
				continue
			}
			// Every VM-* header comes back without its prefix, as mod_voicemail does: mod_sofia's
			// VM-sub-call-id and VM-Call-ID then send the answer only to the subscription or
			// registration that asked.
			var target [][2]string
			for _, h := range e.Headers {
				if len(h.Name) > 3 && strings.EqualFold(h.Name[:3], "vm-") {
					target = append(target, [2]string{h.Name[3:], h.Value})
				}
			}
			for name := range LoadProfiles(m.h.Config()) {
				m.mwi(name, id, domain, "", target)
			}
		}
	}()
	return nil
}

// Stop ends the listener and closes the databases.
func (m *Module) Stop(ctx context.Context) error {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, db := range m.dbs {
		errs = append(errs, db.Close())
	}
	m.dbs = map[string]*store.DB{}
	return errors.Join(errs...)
}

// DB opens (once) <db dir>/voicemail_<profile>.db.
func (m *Module) DB(profile string) (*store.DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if db := m.dbs[profile]; db != nil {
		return db, nil
	}
	if dsn := store.ModuleDSN(m.h.Config(), "voicemail.conf"); store.IsPostgres(dsn) {
		// A cluster's nodes share the index; the audio lives on storage they all mount.
		return m.openShared(profile, dsn)
	}
	dir := m.h.Dirs.DB
	if dir == "" {
		dir, _ = m.h.Global("db_dir")
	}
	if dir == "" {
		return nil, errors.New("voicemail: no database directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(dir, "voicemail_"+profile+".db"))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate("voicemail", append(schema[:len(schema):len(schema)], partialSchema...)...); err != nil {
		db.Close()
		return nil, err
	}
	m.dbs[profile] = db
	return db, nil
}

func (m *Module) openShared(profile, dsn string) (*store.DB, error) {
	_, maxConns := store.CoreDSN(m.h.Config())
	db, err := store.Open(dsn, store.Options{MaxConns: maxConns, Log: m.h.Log})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate("voicemail", append(schema[:len(schema):len(schema)], partialSchema...)...); err != nil {
		db.Close()
		return nil, err
	}
	m.dbs[profile] = db
	return db, nil
}

// Message is one voicemail_msgs row.
type Message struct {
	Created, Read          int64
	User, Domain, UUID     string
	CIDName, CIDNumber     string
	Folder, Path           string
	Len                    int
	Flags, ReadFlags, FwBy string
}

// Counts are a mailbox's message totals.
type Counts struct{ New, Saved, NewUrgent, SavedUrgent int }

// Count returns the mailbox totals (messages marked for deletion don't count).
func (m *Module) Count(profile, id, domain string) (Counts, error) {
	var c Counts
	db, err := m.DB(profile)
	if err != nil {
		return c, err
	}
	// read is 0/1 in both dialects (PostgreSQL wants every selected column grouped).
	rows, err := db.Query(`SELECT CASE WHEN read_epoch = 0 THEN 0 ELSE 1 END, read_flags, count(*) FROM voicemail_msgs
		WHERE username = ? AND domain = ? AND in_folder = 'inbox' AND flags <> 'delete'
		GROUP BY CASE WHEN read_epoch = 0 THEN 0 ELSE 1 END, read_flags`, id, domain)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var read int64
		var flags string
		var n int
		if err := rows.Scan(&read, &flags, &n); err != nil {
			return c, err
		}
		urgent := flags == "A_URGENT"
		switch {
		case read == 0 && urgent:
			c.New += n
			c.NewUrgent += n
		case read == 0:
			c.New += n
		case urgent:
			c.Saved += n
			c.SavedUrgent += n
		default:
			c.Saved += n
		}
	}
	return c, rows.Err()
}

// Messages lists a mailbox's new (or saved) messages, oldest first unless lifo.
func (m *Module) Messages(profile, id, domain string, saved, lifo bool) ([]Message, error) {
	db, err := m.DB(profile)
	if err != nil {
		return nil, err
	}
	cond := "read_epoch = 0"
	if saved {
		cond = "read_epoch <> 0"
	}
	order := "ASC"
	if lifo {
		order = "DESC"
	}
	rows, err := db.Query(`SELECT created_epoch, read_epoch, username, domain, uuid, cid_name, cid_number,
		in_folder, file_path, message_len, flags, read_flags, forwarded_by FROM voicemail_msgs
		WHERE username = ? AND domain = ? AND in_folder = 'inbox' AND flags <> 'delete' AND `+cond+`
		ORDER BY read_flags, created_epoch `+order, id, domain)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

// scanMessages reads voicemail_msgs rows selected as created_epoch, read_epoch, username, domain,
// uuid, cid_name, cid_number, in_folder, file_path, message_len, flags, read_flags, forwarded_by,
// and closes them.
func scanMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var x Message
		if err := rows.Scan(&x.Created, &x.Read, &x.User, &x.Domain, &x.UUID, &x.CIDName, &x.CIDNumber,
			&x.Folder, &x.Path, &x.Len, &x.Flags, &x.ReadFlags, &x.FwBy); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (m *Module) exec(profile, q string, args ...any) error {
	db, err := m.DB(profile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.Exec(ctx, q, args...)
}

// insert stores a new message row in its profile's database (msg.Folder defaults to inbox).
func (m *Module) insert(profile string, msg *Message) error {
	return m.exec(profile, `INSERT INTO voicemail_msgs (created_epoch, read_epoch, username, domain, uuid,
		cid_name, cid_number, in_folder, file_path, message_len, flags, read_flags, forwarded_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		msg.Created, msg.Read, msg.User, msg.Domain, msg.UUID, msg.CIDName, msg.CIDNumber, firstNonEmpty(msg.Folder, "inbox"),
		msg.Path, msg.Len, msg.Flags, firstNonEmpty(msg.ReadFlags, "B_NORMAL"), msg.FwBy)
}

// Prefs are a mailbox's voicemail_prefs row.
type Prefs struct{ NamePath, GreetingPath, Password string }

func (m *Module) prefs(profile, id, domain string) (Prefs, error) {
	var p Prefs
	db, err := m.DB(profile)
	if err != nil {
		return p, err
	}
	err = db.QueryRow(`SELECT coalesce(name_path,''), coalesce(greeting_path,''), coalesce(password,'')
		FROM voicemail_prefs WHERE username = ? AND domain = ?`, id, domain).Scan(&p.NamePath, &p.GreetingPath, &p.Password)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return p, err
}

func (m *Module) setPref(profile, id, domain, column, value string) error {
	switch column {
	case "name_path", "greeting_path", "password":
	default:
		return fmt.Errorf("voicemail: no pref %s", column)
	}
	if err := m.exec(profile, `INSERT INTO voicemail_prefs(username, domain) SELECT ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM voicemail_prefs WHERE username = ? AND domain = ?)`, id, domain, id, domain); err != nil {
		return err
	}
	return m.exec(profile, `UPDATE voicemail_prefs SET `+column+` = ? WHERE username = ? AND domain = ?`, value, id, domain)
}

// MWI publishes MESSAGE_WAITING for a mailbox; reason is mod_voicemail's Update-Reason (NEW,
// DELETE, SAVE, PURGE, READ).
func (m *Module) MWI(profile, id, domain, reason string) { m.mwi(profile, id, domain, reason, nil) }

func (m *Module) mwi(profile, id, domain, reason string, extra [][2]string) {
	c, err := m.Count(profile, id, domain)
	if err != nil {
		m.h.Log.Warn("voicemail: mwi count failed", "err", err)
		return
	}
	e := m.h.Bus.New(event.MessageWaiting, "")
	yn := "no"
	if c.New > 0 || c.NewUrgent > 0 {
		yn = "yes"
	}
	e.Add("MWI-Messages-Waiting", yn)
	e.Add("MWI-Message-Account", id+"@"+domain)
	full := false
	if p := LoadProfiles(m.h.Config())[profile]; p != nil {
		full = p.Bool("send-full-vm-header")
	}
	if full {
		e.Add("MWI-Voice-Message", fmt.Sprintf("%d/%d (%d/%d)", c.New, c.Saved, c.NewUrgent, c.SavedUrgent))
	} else {
		e.Add("MWI-Voice-Message", fmt.Sprintf("%d/%d", c.New, c.Saved))
	}
	if reason != "" { // answers to MESSAGE_QUERY carry none
		e.Add("Update-Reason", reason)
	}
	for _, kv := range extra {
		e.Add(kv[0], kv[1])
	}
	m.h.Bus.Publish(e)
}

// maintenance publishes CUSTOM vm::maintenance.
func (m *Module) maintenance(s *core.Session, action, id, domain string, extra ...[2]string) {
	var e *event.Event
	if s != nil {
		e = s.NewEvent(event.Custom, "vm::maintenance")
	} else {
		e = m.h.Bus.New(event.Custom, "vm::maintenance")
	}
	e.Add("VM-Action", action)
	e.Add("VM-User", id)
	e.Add("VM-Domain", domain)
	for _, kv := range extra {
		e.Add(kv[0], kv[1])
	}
	m.h.Bus.Publish(e)
}
