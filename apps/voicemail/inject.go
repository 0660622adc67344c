package voicemail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/xmlconf"
)

func init() {
	for _, name := range []string{"vm_inject", "voicemail_inject"} {
		core.RegisterAPI(core.APIInfo{
			Name: name, Module: moduleName, Short: "voicemail_inject",
			Syntax: "[group=<group>[@domain]|domain=<domain>|<box>[@<domain>]] <sound_file> [<cid_num>] [<cid_name>]",
			Fn:     apiInject,
		})
	}
}

// apiInject drops a sound file into mailboxes as a new message (broadcasts).
func apiInject(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	m := Of(h)
	a := playback.SeparateString(args, 4)
	if m == nil || len(a) < 2 {
		_, err := io.WriteString(w, "-ERR Usage: vm_inject [group=<group>[@domain]|domain=<domain>|<box>[@<domain>]] <sound_file> [<cid_num>] [<cid_name>]\n")
		return err
	}
	n, err := m.Inject(h.Config(), a[0], a[1], arg(a, 2), arg(a, 3))
	if err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	_, err = fmt.Fprintf(w, "+OK %d message%s injected\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	return err
}

// Inject stores file as a new message in the mailboxes target names and reports how many.
func (m *Module) Inject(snap *xmlconf.Snapshot, target, file, cidNum, cidName string) (int, error) {
	dir := snap.Directory()
	if dir == nil {
		return 0, errors.New("no directory")
	}
	defDomain, _ := m.h.Global("domain")
	var users []*xmlconf.User
	broadcast := ""
	switch {
	case strings.HasPrefix(target, "domain="):
		d := dir.Domain(strings.TrimPrefix(target, "domain="))
		if d == nil {
			return 0, fmt.Errorf("no domain %s", strings.TrimPrefix(target, "domain="))
		}
		users, broadcast = d.Users, "domain"
	case strings.HasPrefix(target, "group="):
		g, d, _ := strings.Cut(strings.TrimPrefix(target, "group="), "@")
		users, broadcast = dir.GroupUsers(firstNonEmpty(d, defDomain), g), "group"
	default:
		id, d, _ := strings.Cut(target, "@")
		if u := dir.User(id, firstNonEmpty(d, defDomain)); u != nil {
			users = []*xmlconf.User{u}
		}
	}
	if len(users) == 0 {
		return 0, fmt.Errorf("no mailbox for %s", target)
	}
	secs, err := wavSeconds(file)
	if err != nil {
		return 0, err
	}
	p := LoadProfiles(snap)["default"]
	storage := m.h.Dirs.Storage
	if storage == "" {
		storage, _ = m.h.Global("storage_dir")
	}
	n := 0
	for _, u := range users {
		if strings.EqualFold(u.Param("vm-enabled"), "false") {
			continue
		}
		b := &box{m: m, p: p, id: u.ID, domain: u.Domain, user: u, storage: storage}
		if u.Mailbox != "" {
			b.id = u.Mailbox
		}
		id := uuid.NewString()
		name := "msg_" + id + ".wav"
		if broadcast != "" {
			name = "msg_" + id + "_broadcast_" + filepath.Base(file)
		}
		dst := filepath.Join(b.dir(), name)
		if err := copyFile(dst, file); err != nil {
			return n, err
		}
		msg := Message{Created: time.Now().Unix(), User: b.id, Domain: b.domain, UUID: id, CIDName: cidName,
			CIDNumber: cidNum, Folder: "inbox", Path: dst, Len: secs, ReadFlags: "B_NORMAL"}
		ms := userMail(u, p)
		if ms.keepLocal {
			if err := m.insert(p.Name, &msg); err != nil {
				os.Remove(dst)
				return n, err
			}
			m.maintenance(nil, "leave-message", b.id, b.domain, [2]string{"VM-File-Path", dst}, [2]string{"VM-UUID", id})
			m.MWI(p.Name, b.id, b.domain, "NEW")
		}
		m.mailNew(context.Background(), nil, p, ms, &msg)
		if !ms.keepLocal {
			os.Remove(dst)
		}
		n++
	}
	return n, nil
}

func wavSeconds(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := audio.NewWavReader(f)
	if err != nil {
		return 0, err
	}
	var total int64
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	return int(total / int64(r.Rate())), nil
}
