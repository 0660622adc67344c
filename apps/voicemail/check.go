package voicemail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/goswitch/goswitch/apps/playback"
)

// check is voicemail_check_main: login, counts, main menu, message playback, config menu.
func (b *box) check(ctx context.Context, a Args) error {
	p := b.p
	term := p.Param("terminator-key")
	logged := false
	for try := 0; try < max(1, p.Int("max-login-attempts")) && !logged; try++ {
		b.id = a.ID
		if b.id == "" {
			in, err := b.collect(ctx, "voicemail_enter_id", term, 32)
			if err != nil {
				return nil
			}
			b.id = in
		}
		found := b.lookup()
		if a.Auth || a.ID != "" && b.s.Var("voicemail_authorized") == "true" {
			logged = found
			break
		}
		in, err := b.collect(ctx, "voicemail_enter_pass", term, 32)
		if err != nil {
			return nil
		}
		if found && b.passwordOK(in) {
			logged = true
			break
		}
		if _, err := phrase(ctx, b.s, "voicemail_fail_auth", "", nil); err != nil && ctx.Err() != nil {
			return nil
		}
	}
	if !logged {
		_, _ = phrase(ctx, b.s, "voicemail_goodbye", "", nil)
		return nil
	}
	b.s.SetVar("voicemail_authorized", "true")
	b.m.maintenance(b.s, "authentication", b.id, b.domain)
	defer b.purge()
	_, _ = phrase(ctx, b.s, "voicemail_hello", "", nil)
	b.announce(ctx)
	timeouts := 0
	for ctx.Err() == nil {
		newKey, savedKey, cfgKey := p.Param("play-new-messages-key"), p.Param("play-saved-messages-key"), p.Param("config-menu-key")
		d, err := b.menu(ctx, "voicemail_menu", newKey+":"+savedKey+":"+cfgKey+":"+term)
		if err != nil {
			return nil
		}
		switch string(d) {
		case "":
			timeouts++
			if timeouts >= p.Int("max-retries") {
				_, _ = phrase(ctx, b.s, "voicemail_goodbye", "", nil)
				return nil
			}
		case newKey, savedKey:
			timeouts = 0
			saved := string(d) == savedKey
			lifo := p.Bool("play-new-messages-lifo")
			if saved {
				lifo = p.Bool("play-saved-messages-lifo")
			}
			msgs, err := b.m.Messages(p.Name, b.id, b.domain, saved, lifo)
			if err != nil {
				return err
			}
			b.listen(ctx, msgs, saved)
			b.announce(ctx)
		case cfgKey:
			timeouts = 0
			b.config(ctx)
		case term:
			_, _ = phrase(ctx, b.s, "voicemail_goodbye", "", nil)
			return nil
		}
	}
	return nil
}

// collect plays a macro and reads digits up to the terminator.
func (b *box) collect(ctx context.Context, macro, term string, maxDigits int) (string, error) {
	in, err := playback.GetDigits(ctx, b.s, playback.Collect{
		Prompt: "phrase:" + macro + ":" + term, Min: 1, Max: maxDigits, Terminators: term,
		Timeout: b.timeout, DigitTimeout: b.timeout, Options: playback.Options{Fallback: fallback},
	})
	if err != nil {
		return "", err
	}
	return in.Digits, nil
}

// passwordOK checks vm-password (else password), or the mailbox's own with db-password-override.
func (b *box) passwordOK(in string) bool {
	want := b.user.Param("vm-password")
	if want == "" {
		want = b.user.Param("password")
	}
	if prefs, err := b.m.prefs(b.p.Name, b.id, b.domain); err == nil && prefs.Password != "" &&
		(b.p.Bool("db-password-override") || want == "") {
		want = prefs.Password
	}
	if want == "" {
		return b.p.Bool("allow-empty-password-auth")
	}
	return in == want
}

func (b *box) announce(ctx context.Context) {
	c, err := b.m.Count(b.p.Name, b.id, b.domain)
	if err != nil {
		b.s.Log().Warn("voicemail: count failed", "err", err)
		return
	}
	if c.NewUrgent > 0 {
		_, _ = phrase(ctx, b.s, "voicemail_message_count", fmt.Sprintf("%d:urgent-new", c.NewUrgent), nil)
	}
	_, _ = phrase(ctx, b.s, "voicemail_message_count", fmt.Sprintf("%d:new", c.New-c.NewUrgent), nil)
	if c.Saved > 0 {
		_, _ = phrase(ctx, b.s, "voicemail_message_count", fmt.Sprintf("%d:saved", c.Saved), nil)
	}
}

// listen walks messages with the per-message menu.
func (b *box) listen(ctx context.Context, msgs []Message, saved bool) {
	p := b.p
	kind := "new"
	if saved {
		kind = "saved"
	}
	for i := 0; i >= 0 && i < len(msgs) && ctx.Err() == nil; {
		msg := &msgs[i]
		// The envelope (number, date) stops on any digit: skip-info-key goes straight to the
		// message, any other digit is a menu choice.
		skip := p.Param("skip-info-key")
		d, _ := phrase(ctx, b.s, "voicemail_say_message_number", kind+":"+strconv.Itoa(i+1), playback.AnyDigit)
		if d == 0 && p.Param("play-date-announcement") != "never" {
			d, _ = phrase(ctx, b.s, "voicemail_say_date", strconv.FormatInt(msg.Created, 10), playback.AnyDigit)
		}
		var choice rune
		if d == 0 || string(d) == skip {
			choice = b.playMessage(ctx, msg)
		} else {
			choice = d
		}
		if msg.Read == 0 {
			msg.Read = time.Now().Unix()
			if err := b.m.exec(p.Name, `UPDATE voicemail_msgs SET read_epoch = ? WHERE uuid = ?`, msg.Read, msg.UUID); err == nil {
				b.m.MWI(p.Name, b.id, b.domain, "READ")
			}
		}
	menu:
		for ctx.Err() == nil {
			if choice == 0 {
				var err error
				choice, err = b.menu(ctx, "voicemail_listen_file_check", fmt.Sprintf("%s:%s:%s:%s:%s:%s:%s",
					p.Param("repeat-message-key"), p.Param("save-file-key"), p.Param("delete-file-key"),
					p.Param("email-key"), p.Param("callback-key"), p.Param("forward-key"), msg.CIDNumber))
				if err != nil {
					return
				}
			}
			switch c := string(choice); {
			case choice == 0 || c == p.Param("next-message-key"):
				i++
				break menu
			case c == p.Param("repeat-message-key"):
				choice = b.playMessage(ctx, msg)
				continue
			case c == p.Param("save-file-key"):
				b.setFlags(msg, "save")
				_, _ = phrase(ctx, b.s, "voicemail_ack", "saved", nil)
				i++
				break menu
			case c == p.Param("delete-file-key"):
				b.setFlags(msg, "delete")
				_, _ = phrase(ctx, b.s, "voicemail_ack", "deleted", nil)
				i++
				break menu
			case c == p.Param("email-key") && b.mailTo() != "":
				// mod_voicemail: the message is emailed (file attached) and marked for deletion.
				b.setFlags(msg, "delete")
				if b.m.mailSaved(ctx, b.s, p, userMail(b.user, p), msg) {
					_, _ = phrase(ctx, b.s, "voicemail_ack", "emailed", nil)
				}
				i++
				break menu
			case c == p.Param("callback-key") && msg.CIDNumber != "":
				// Call the sender back: the transfer ends this application.
				b.s.Transfer(msg.CIDNumber, p.Param("callback-dialplan"), p.Param("callback-context"))
				return
			case c == p.Param("forward-key"):
				b.forward(ctx, msg)
			case c == p.Param("previous-message-key"):
				i = max(0, i-1)
				break menu
			case c == p.Param("terminator-key"):
				return
			}
			choice = 0
		}
	}
}

// playMessage plays a message with live controls (pause, restart, fast-forward, rewind); any
// other digit stops it and is returned as the menu choice.
func (b *box) playMessage(ctx context.Context, msg *Message) rune {
	p := b.p
	pause, restart, ff, rew := p.Param("pause-key"), p.Param("restart-key"), p.Param("ff-key"), p.Param("rew-key")
	const step = 5 * 8000 // samples at 8 kHz
	var pos int64
	for ctx.Err() == nil {
		file := msg.Path
		if pos > 0 {
			file = fmt.Sprintf("%s@@%d", msg.Path, pos)
		}
		r, err := playback.Play(ctx, b.s, file, playback.Options{Stop: playback.AnyDigit})
		if err != nil || r.Digit == 0 {
			return 0
		}
		pos += r.Samples
		switch string(r.Digit) {
		case pause:
			d, _ := playback.WaitDigit(ctx, b.s, time.Hour)
			_ = d
		case restart:
			pos = 0
		case ff:
			pos += step
		case rew:
			pos = max(0, pos-step)
		default:
			return r.Digit
		}
	}
	return 0
}

// mailTo is where email-key sends: vm-mailto, else email-addr.
func (b *box) mailTo() string {
	ms := userMail(b.user, b.p)
	return firstNonEmpty(ms.to, ms.addr)
}

func (b *box) setFlags(msg *Message, flags string) {
	msg.Flags = flags
	if err := b.m.exec(b.p.Name, `UPDATE voicemail_msgs SET flags = ? WHERE uuid = ?`, flags, msg.UUID); err != nil {
		b.s.Log().Warn("voicemail: update failed", "err", err)
	}
}

// purge removes messages marked for deletion, as mod_voicemail does when the caller leaves.
func (b *box) purge() {
	p := b.p
	db, err := b.m.DB(p.Name)
	if err != nil {
		return
	}
	rows, err := db.Query(`SELECT file_path FROM voicemail_msgs WHERE username = ? AND domain = ? AND flags = 'delete'`, b.id, b.domain)
	if err != nil {
		return
	}
	var files []string
	for rows.Next() {
		var f string
		if rows.Scan(&f) == nil {
			files = append(files, f)
		}
	}
	rows.Close()
	for _, f := range files {
		os.Remove(f)
	}
	if err := b.m.exec(p.Name, `DELETE FROM voicemail_msgs WHERE username = ? AND domain = ? AND flags = 'delete'`, b.id, b.domain); err != nil {
		b.s.Log().Warn("voicemail: purge failed", "err", err)
	}
	b.m.MWI(p.Name, b.id, b.domain, "PURGE")
	b.m.maintenance(b.s, "mwi-update", b.id, b.domain)
}

// config is the advanced menu: record greeting, choose greeting, record name, change password.
func (b *box) config(ctx context.Context) {
	p := b.p
	rg, cg, rn, cp, mm := p.Param("record-greeting-key"), p.Param("choose-greeting-key"), p.Param("record-name-key"), p.Param("change-pass-key"), p.Param("main-menu-key")
	for ctx.Err() == nil {
		d, err := b.menu(ctx, "voicemail_config_menu", rg+":"+cg+":"+rn+":"+cp+":"+mm)
		if err != nil || d == 0 {
			return
		}
		switch string(d) {
		case rg:
			n := b.chooseNumber(ctx)
			if n == 0 {
				continue
			}
			path := filepath.Join(b.dir(), fmt.Sprintf("greeting_%d.%s", n, b.ext()))
			if dur, _ := b.record(ctx, "voicemail_record_greeting", path); dur > 0 {
				_ = b.m.setPref(p.Name, b.id, b.domain, "greeting_path", path)
				b.m.maintenance(b.s, "record-greeting", b.id, b.domain, [2]string{"VM-Greeting-Path", path})
			}
		case cg:
			n := b.chooseNumber(ctx)
			path := filepath.Join(b.dir(), fmt.Sprintf("greeting_%d.%s", n, b.ext()))
			if n == 0 || !fileExists(path) {
				_, _ = phrase(ctx, b.s, "voicemail_choose_greeting_fail", "", nil)
				continue
			}
			_ = b.m.setPref(p.Name, b.id, b.domain, "greeting_path", path)
			_, _ = phrase(ctx, b.s, "voicemail_greeting_selected", strconv.Itoa(n), nil)
			b.m.maintenance(b.s, "change-greeting", b.id, b.domain, [2]string{"VM-Greeting-Path", path})
		case rn:
			path := filepath.Join(b.dir(), "recorded_name."+b.ext())
			if dur, _ := b.record(ctx, "voicemail_record_name", path); dur > 0 {
				_ = b.m.setPref(p.Name, b.id, b.domain, "name_path", path)
				b.m.maintenance(b.s, "record-name", b.id, b.domain, [2]string{"VM-Name-Path", path})
			}
		case cp:
			in, err := b.collect(ctx, "voicemail_enter_pass", p.Param("terminator-key"), 32)
			if err != nil {
				return
			}
			if in == "" {
				_, _ = phrase(ctx, b.s, "voicemail_change_pass_fail", "", nil)
				continue
			}
			_ = b.m.setPref(p.Name, b.id, b.domain, "password", in)
			_, _ = phrase(ctx, b.s, "voicemail_change_pass_success", "", nil)
			b.m.maintenance(b.s, "change-password", b.id, b.domain)
		case mm:
			return
		}
	}
}

// chooseNumber asks for a greeting number 1-9.
func (b *box) chooseNumber(ctx context.Context) int {
	d, err := b.menu(ctx, "voicemail_choose_greeting", "")
	if err != nil || d < '1' || d > '9' {
		return 0
	}
	return int(d - '0')
}
