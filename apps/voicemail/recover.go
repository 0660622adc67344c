package voicemail

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/goswitch/goswitch/core/media/audio"
)

// A message being recorded has a voicemail_partial row (same database, a table FreeSWITCH does
// not know) from the beep until it is indexed in voicemail_msgs or thrown away. The recording's
// WAV header is kept current once a second (audio.WavWriter), so when the process dies mid-message
// the next start finds the row, fixes the header to the file's length and delivers the message
// (index row, vm::maintenance, MESSAGE_WAITING, email as configured) like a finished one.
var partialSchema = []string{
	`CREATE TABLE IF NOT EXISTS voicemail_partial (
		uuid VARCHAR(255) PRIMARY KEY, created_epoch INTEGER, username VARCHAR(255), domain VARCHAR(255),
		cid_name VARCHAR(255), cid_number VARCHAR(255), file_path VARCHAR(255))`,
}

// beginPartial records that msg (its Path, UUID, caller) is being recorded.
func (m *Module) beginPartial(profile string, msg *Message) error {
	return m.exec(profile, `INSERT OR REPLACE INTO voicemail_partial (uuid, created_epoch, username, domain,
		cid_name, cid_number, file_path) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		msg.UUID, msg.Created, msg.User, msg.Domain, msg.CIDName, msg.CIDNumber, msg.Path)
}

// endPartial forgets the in-progress marker once the message is indexed or discarded.
func (m *Module) endPartial(profile, id string) {
	if err := m.exec(profile, `DELETE FROM voicemail_partial WHERE uuid = ?`, id); err != nil {
		m.h.Log.Warn("voicemail: clear in-progress marker", "uuid", id, "err", err)
	}
}

// recoverPartial delivers the messages whose recording was cut by a crash, in every profile
// whose database exists. It reports how many it delivered.
func (m *Module) recoverPartial(ctx context.Context) int {
	dir := m.h.Dirs.DB
	if dir == "" {
		dir, _ = m.h.Global("db_dir")
	}
	if dir == "" {
		return 0
	}
	n := 0
	for name, p := range LoadProfiles(m.h.Config()) {
		if _, err := os.Stat(filepath.Join(dir, "voicemail_"+name+".db")); err != nil {
			continue
		}
		db, err := m.DB(name)
		if err != nil {
			m.h.Log.Warn("voicemail: recovery: open database", "profile", name, "err", err)
			continue
		}
		rows, err := db.QueryContext(ctx, `SELECT uuid, created_epoch, username, domain, cid_name, cid_number,
			file_path FROM voicemail_partial ORDER BY created_epoch`)
		if err != nil {
			m.h.Log.Warn("voicemail: recovery: read in-progress messages", "profile", name, "err", err)
			continue
		}
		var found []Message
		for rows.Next() {
			var x Message
			if err := rows.Scan(&x.UUID, &x.Created, &x.User, &x.Domain, &x.CIDName, &x.CIDNumber, &x.Path); err != nil {
				break
			}
			found = append(found, x)
		}
		rows.Close()
		for i := range found {
			if m.recoverOne(ctx, p, &found[i]) {
				n++
			}
		}
	}
	return n
}

func (m *Module) recoverOne(ctx context.Context, p *Profile, msg *Message) bool {
	defer m.endPartial(p.Name, msg.UUID)
	db, err := m.DB(p.Name)
	if err != nil {
		return false
	}
	var indexed int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM voicemail_msgs WHERE uuid = ?`, msg.UUID).Scan(&indexed); err != nil || indexed > 0 {
		return false // stored just before the crash
	}
	frames, rate, err := audio.RepairWav(msg.Path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.h.Log.Warn("voicemail: recovery: unreadable recording kept on disk", "path", msg.Path, "err", err)
		}
		return false
	}
	secs := int(frames / int64(rate))
	if secs < p.Int("min-record-len") {
		os.Remove(msg.Path)
		return false
	}
	msg.Folder, msg.Len, msg.ReadFlags = "inbox", secs, "B_NORMAL"
	u := m.h.Config().Directory().User(msg.User, msg.Domain)
	ms := mailSettings{keepLocal: true}
	if u != nil {
		ms = userMail(u, p)
	}
	if ms.keepLocal {
		if err := m.insert(p.Name, msg); err != nil {
			m.h.Log.Error("voicemail: recovery: store message", "path", msg.Path, "err", err)
			return false
		}
		m.maintenance(nil, "leave-message", msg.User, msg.Domain,
			[2]string{"VM-Caller-ID-Name", msg.CIDName}, [2]string{"VM-Caller-ID-Number", msg.CIDNumber},
			[2]string{"VM-File-Path", msg.Path}, [2]string{"VM-Message-Len", itoa(msg.Len)},
			[2]string{"VM-UUID", msg.UUID})
		m.MWI(p.Name, msg.User, msg.Domain, "NEW")
	}
	m.h.Log.Warn("voicemail: recovered a message cut by a restart", "user", msg.User, "domain", msg.Domain,
		"seconds", secs, "path", msg.Path)
	if u != nil {
		m.mailNew(ctx, nil, p, ms, msg)
	}
	if !ms.keepLocal {
		os.Remove(msg.Path)
	}
	return true
}
