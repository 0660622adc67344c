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
	"github.com/goswitch/goswitch/core/xmlconf"
)

func init() {
	core.RegisterApp(core.AppInfo{
		Name: "voicemail", Module: moduleName, Short: "Voicemail",
		Syntax: "[check] [auth] <profile_name> <domain_name> [<id>] [uuid]",
		App:    core.AppFunc(appVoicemail),
	})
	core.RegisterAPI(core.APIInfo{
		Name: "vm_boxcount", Module: moduleName, Short: "vm_boxcount",
		Syntax: "[profile/]<user>@<domain>[|[new|saved|new-urgent|saved-urgent|all]]", Fn: apiBoxcount,
	})
}

// Args is the parsed voicemail application data.
type Args struct {
	Check, Auth     bool
	Profile, Domain string
	ID              string
}

// ParseArgs reads [check] [auth] <profile> <domain> [<id>].
func ParseArgs(data string) (Args, error) {
	var a Args
	f := strings.Fields(data)
	for len(f) > 0 {
		switch f[0] {
		case "check":
			a.Check = true
		case "auth":
			a.Auth = true
		default:
			goto rest
		}
		f = f[1:]
	}
rest:
	if len(f) < 2 {
		return a, errors.New("voicemail: usage: [check] [auth] <profile_name> <domain_name> [<id>]")
	}
	a.Profile, a.Domain = f[0], f[1]
	if len(f) > 2 {
		a.ID = f[2]
	}
	if !a.Check && a.ID == "" {
		return a, errors.New("voicemail: no mailbox id to leave a message for")
	}
	return a, nil
}

// box is one mailbox being served on a call.
type box struct {
	m       *Module
	s       *core.Session
	p       *Profile
	id      string
	domain  string
	user    *xmlconf.User
	timeout time.Duration
	storage string // set when there is no channel (vm_inject)
}

func appVoicemail(ctx context.Context, s *core.Session, data string) error {
	m := Of(s.Host())
	if m == nil {
		return errors.New("voicemail: mod_voicemail is not loaded")
	}
	a, err := ParseArgs(data)
	if err != nil {
		return err
	}
	p := LoadProfiles(s.Config())[a.Profile]
	if p == nil {
		return fmt.Errorf("voicemail: profile %s not found", a.Profile)
	}
	if err := s.Answer(ctx); err != nil {
		return err
	}
	b := &box{m: m, s: s, p: p, domain: a.Domain, timeout: time.Duration(p.Int("digit-timeout")) * time.Millisecond}
	if a.Check {
		return b.check(ctx, a)
	}
	b.id = a.ID
	if !b.lookup() {
		s.Log().Warn("voicemail: no such mailbox", "id", a.ID, "domain", a.Domain)
		_, _ = phrase(ctx, s, "voicemail_invalid_extension", "", nil)
		return nil
	}
	return b.deposit(ctx)
}

// lookup finds the directory user; mailboxes with vm-enabled=false don't exist.
func (b *box) lookup() bool {
	dir := b.s.Config().Directory()
	if dir == nil {
		return false
	}
	u := dir.User(b.id, b.domain)
	if u == nil || strings.EqualFold(u.Param("vm-enabled"), "false") {
		return false
	}
	b.user = u
	b.id = u.ID
	if u.Mailbox != "" {
		b.id = u.Mailbox
	}
	return true
}

// dir is where the mailbox's files live (FS-COMPAT 7, first match wins).
func (b *box) dir() string {
	storage := b.storage
	if storage == "" && b.s != nil {
		storage = b.s.Host().Dirs.Storage
		if storage == "" {
			storage = b.s.Var("storage_dir")
		}
	}
	base := filepath.Join(storage, "voicemail")
	if b.user != nil {
		if d := b.user.Param("vm-storage-dir"); d != "" {
			if filepath.IsAbs(d) {
				return d
			}
			return filepath.Join(base, d)
		}
		if d := b.user.Param("vm-domain-storage-dir"); d != "" {
			return filepath.Join(d, b.id)
		}
	}
	if d := b.p.Param("storage-dir"); d != "" {
		if b.p.Bool("storage-dir-shared") {
			return filepath.Join(d, b.domain, "voicemail", b.id)
		}
		return filepath.Join(d, b.domain, b.id)
	}
	return filepath.Join(base, b.p.Name, b.domain, b.id)
}

func (b *box) ext() string {
	if e := b.s.Var("vm_message_ext"); e != "" {
		return e
	}
	return b.p.Param("file-extension")
}

func keyStop(keys ...string) func(rune) bool {
	return func(d rune) bool {
		for _, k := range keys {
			if k != "" && strings.ContainsRune(k, d) {
				return true
			}
		}
		return false
	}
}

// record records into path after the macro and the beep; it offers listen/save/re-record and
// reports the saved length, or 0 when nothing was kept.
func (b *box) record(ctx context.Context, macro, path string) (time.Duration, error) {
	p := b.p
	for try := 0; try < max(1, p.Int("max-retries")); try++ {
		if macro == "voicemail_record_message" && core.True(b.s.Var("skip_instructions")) {
			// FreeSWITCH's skip_instructions: straight to the beep
		} else if _, err := phrase(ctx, b.s, macro, "", nil); err != nil && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if _, err := playback.Play(ctx, b.s, "tone_stream://"+p.Param("tone-spec"), playback.Options{}); err != nil && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		b.s.FlushDTMF()
		rec, err := playback.Record(ctx, b.s, path, playback.RecordOptions{
			Limit:         time.Duration(p.Int("max-record-len")) * time.Second,
			SilenceThresh: p.Int("record-silence-threshold"),
			SilenceHits:   p.Int("record-silence-hits"),
			Stop:          func(rune) bool { return true },
		})
		dur := rec.Duration()
		if err != nil && ctx.Err() == nil {
			return 0, err
		}
		// Trailing silence that ended the recording is not part of the message.
		if rec.Reason == "silence" {
			dur -= time.Duration(p.Int("record-silence-hits")) * time.Second
		}
		if dur < time.Duration(p.Int("min-record-len"))*time.Second {
			os.Remove(path)
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			_, _ = phrase(ctx, b.s, "voicemail_ack", "too-small", nil)
			continue
		}
		if ctx.Err() != nil { // hung up after speaking: keep it
			return dur, nil
		}
		for {
			listen, save, again := p.Param("listen-file-key"), p.Param("save-file-key"), p.Param("record-file-key")
			d, err := b.menu(ctx, "voicemail_record_file_check", listen+":"+save+":"+again)
			if err != nil {
				return dur, nil
			}
			switch string(d) {
			case listen:
				if _, err := playback.Play(ctx, b.s, path, playback.Options{Stop: playback.AnyDigit}); err != nil && ctx.Err() != nil {
					return dur, nil
				}
				continue
			case again:
			default: // save, or no answer: keep it
				return dur, nil
			}
			break
		}
	}
	return 0, nil
}

// menu plays a macro and waits for one digit (the digit that cut the prompt counts).
func (b *box) menu(ctx context.Context, macro, data string) (rune, error) {
	d, err := phrase(ctx, b.s, macro, data, playback.AnyDigit)
	if err != nil && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if d != 0 {
		return d, nil
	}
	return playback.WaitDigit(ctx, b.s, b.timeout)
}

// deposit is voicemail_leave_main: greeting, beep, record, store, notify.
func (b *box) deposit(ctx context.Context) error {
	p := b.p
	prefs, _ := b.m.prefs(p.Name, b.id, b.domain)
	stop := keyStop(p.Param("skip-greet-key"), p.Param("operator-key"), p.Param("vmain-key"))
	var d rune
	var err error
	switch {
	case core.True(b.s.Var("skip_greeting")): // FreeSWITCH's skip_greeting channel variable
	case prefs.GreetingPath != "" && fileExists(prefs.GreetingPath):
		var r playback.Result
		r, err = playback.Play(ctx, b.s, prefs.GreetingPath, playback.Options{Stop: stop})
		d = r.Digit
	case prefs.NamePath != "" && fileExists(prefs.NamePath):
		var r playback.Result
		r, err = playback.Play(ctx, b.s, "file_string://voicemail/vm-person.wav!"+prefs.NamePath+"!voicemail/vm-not_available.wav", playback.Options{Stop: stop})
		d = r.Digit
	default:
		d, err = phrase(ctx, b.s, "voicemail_play_greeting", b.id, stop)
	}
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if d != 0 && b.jump(d) {
		return nil
	}
	id := uuid.NewString()
	path := filepath.Join(b.dir(), "msg_"+id+"."+b.ext())
	pr := b.s.Profile()
	partial := Message{Created: time.Now().Unix(), User: b.id, Domain: b.domain, UUID: id, CIDName: pr.CallerIDName,
		CIDNumber: pr.CallerIDNumber, Path: path}
	if err := b.m.beginPartial(p.Name, &partial); err != nil {
		b.s.Log().Warn("voicemail: in-progress marker not stored; a crash now loses the message", "err", err)
	}
	defer b.m.endPartial(p.Name, id)
	dur, err := b.record(ctx, "voicemail_record_message", path)
	if err != nil && ctx.Err() == nil {
		return err
	}
	if dur <= 0 {
		if ctx.Err() == nil {
			_, _ = phrase(ctx, b.s, "voicemail_goodbye", "", nil)
		}
		return nil
	}
	readFlags := "B_NORMAL"
	if urgent, term := p.Param("urgent-key"), p.Param("terminator-key"); urgent != "" && ctx.Err() == nil {
		if d, err := b.menu(ctx, "voicemail_record_urgent_check", urgent+":"+term); err == nil && string(d) == urgent {
			readFlags = "A_URGENT"
			_, _ = phrase(ctx, b.s, "voicemail_ack", "marked-urgent", nil)
		}
	}
	msg := Message{Created: partial.Created, User: b.id, Domain: b.domain, UUID: id, CIDName: pr.CallerIDName,
		CIDNumber: pr.CallerIDNumber, Folder: "inbox", Path: path, Len: int(dur.Seconds()), ReadFlags: readFlags}
	ms := userMail(b.user, p)
	if ms.keepLocal {
		if err := b.m.insert(p.Name, &msg); err != nil {
			return fmt.Errorf("voicemail: store message: %w", err)
		}
	}
	b.s.SetVar("voicemail_message_len", itoa(msg.Len))
	b.s.SetVar("voicemail_file_path", path)
	if ms.keepLocal {
		b.m.maintenance(b.s, "leave-message", b.id, b.domain,
			[2]string{"VM-Caller-ID-Name", pr.CallerIDName}, [2]string{"VM-Caller-ID-Number", pr.CallerIDNumber},
			[2]string{"VM-File-Path", path}, [2]string{"VM-Message-Len", itoa(msg.Len)},
			[2]string{"VM-UUID", id})
		b.m.MWI(p.Name, b.id, b.domain, "NEW")
	}
	b.m.mailNew(ctx, b.s, p, ms, &msg)
	if !ms.keepLocal {
		os.Remove(path) // vm-keep-local-after-email=false: the email was the delivery
	}
	if ctx.Err() == nil {
		_, _ = phrase(ctx, b.s, "voicemail_goodbye", "", nil)
	}
	return nil
}

// jump handles operator-key / vmain-key pressed during the greeting; it reports whether the
// call left voicemail.
func (b *box) jump(d rune) bool {
	for _, k := range [][2]string{{"operator-key", "operator-extension"}, {"vmain-key", "vmain-extension"}} {
		key, ext := b.p.Param(k[0]), b.p.Param(k[1])
		if key != "" && ext != "" && string(d) == key {
			a := playback.SeparateString(ext, 3)
			b.s.Transfer(a[0], arg(a, 1), arg(a, 2))
			return true
		}
	}
	return false
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func itoa(n int) string { return fmt.Sprint(n) }

// apiBoxcount is vm_boxcount [profile/]<user>@<domain>[|new|saved|new-urgent|saved-urgent|all].
func apiBoxcount(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	m := Of(h)
	if m == nil {
		_, err := io.WriteString(w, "-ERR mod_voicemail is not loaded\n")
		return err
	}
	spec, what, _ := strings.Cut(strings.TrimSpace(args), "|")
	profile := "default"
	if p, rest, ok := strings.Cut(spec, "/"); ok {
		profile, spec = p, rest
	}
	id, domain, ok := strings.Cut(spec, "@")
	if !ok || id == "" {
		_, err := io.WriteString(w, "-ERR Usage: vm_boxcount [profile/]<user>@<domain>[|[new|saved|new-urgent|saved-urgent|all]]\n")
		return err
	}
	c, err := m.Count(profile, id, domain)
	if err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	var out string
	switch what {
	case "saved":
		out = itoa(c.Saved)
	case "new-urgent":
		out = itoa(c.NewUrgent)
	case "saved-urgent":
		out = itoa(c.SavedUrgent)
	case "all":
		out = fmt.Sprintf("%d:%d:%d:%d", c.New, c.Saved, c.NewUrgent, c.SavedUrgent)
	default:
		out = itoa(c.New)
	}
	_, err = io.WriteString(w, out)
	return err
}
