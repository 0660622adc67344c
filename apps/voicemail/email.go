package voicemail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-strftime"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// mailSettings are a mailbox's email parameters from the directory (deliver_vm).
type mailSettings struct {
	to, notifyTo, from     string // vm-mailto, vm-notify-mailto, vm-mailfrom
	all, notifyAll         bool   // vm-email-all-messages, vm-notify-email-all-messages
	attach                 bool   // vm-attach-file
	keepLocal              bool   // vm-keep-local-after-email (default true)
	convertCmd, convertExt string // vm-convert-cmd/ext, else the profile's convert-cmd/ext
	timezone               string
	addr                   string // email-addr: where email-key sends when vm-mailto is unset
}

func userMail(u *xmlconf.User, p *Profile) mailSettings {
	ms := mailSettings{keepLocal: true, convertCmd: p.Param("convert-cmd"), convertExt: p.Param("convert-ext")}
	if u == nil {
		return ms
	}
	ms.timezone = u.Var("timezone")
	for _, kv := range u.Params {
		v := kv.Value
		switch strings.ToLower(kv.Name) {
		case "vm-mailto":
			ms.to = v
		case "vm-notify-mailto":
			ms.notifyTo = v
		case "vm-mailfrom":
			ms.from = v
		case "vm-email-all-messages":
			ms.all = isTrue(v)
		case "vm-notify-email-all-messages":
			ms.notifyAll = isTrue(v)
		case "vm-attach-file":
			ms.attach = isTrue(v)
		case "vm-keep-local-after-email":
			ms.keepLocal = isTrue(v)
		case "vm-delete-file":
			// The older spelling of vm-keep-local-after-email=false: the message leaves by email
			// (attached, or it would be lost) and is not kept in the mailbox.
			if isTrue(v) {
				ms.keepLocal, ms.attach = false, true
			}
		case "vm-convert-cmd":
			ms.convertCmd = v
		case "vm-convert-ext":
			ms.convertExt = v
		case "timezone":
			ms.timezone = v
		case "email-addr":
			ms.addr = v
		}
	}
	return ms
}

// emails reports whether a new message is sent by email (deliver_vm's send_mail).
func (ms mailSettings) emails() bool {
	return (ms.all || ms.notifyAll) && (ms.to != "" || ms.notifyTo != "")
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1", "enabled", "active", "allow":
		return true
	}
	return false
}

// template returns the profile's email headers and body: the template file (template-file, or
// notify-template-file for notify) split at the first blank line, else the <email><headers> and
// <body> text. Empty strings mean FreeSWITCH's built-in ones.
func (m *Module) template(p *Profile, notify bool) (headers, body string) {
	name := "template-file"
	if notify {
		name = "notify-template-file"
	}
	if f := p.EmailParam(name); f != "" {
		if !filepath.IsAbs(f) {
			dir := m.h.Dirs.Conf
			if dir == "" {
				dir, _ = m.h.Global("conf_dir")
			}
			f = filepath.Join(dir, f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			m.h.Log.Warn("voicemail: email template", "file", f, "err", err)
		} else {
			text := string(data)
			if h, b, ok := strings.Cut(text, "\n\n"); ok {
				return h, b
			}
			if h, b, ok := strings.Cut(text, "\r\n\r\n"); ok {
				return h, b
			}
			return text, ""
		}
	}
	if notify {
		return "", ""
	}
	return p.emailHeaders, p.emailBody
}

// mailVars are the template variables of one message (deliver_vm / the email-key path).
func mailVars(p *Profile, ms mailSettings, msg *Message, c Counts, now time.Time) map[string]string {
	prio := 3
	if msg.ReadFlags == "A_URGENT" {
		prio = 1
	}
	loc := time.Local
	if ms.timezone != "" {
		if l, err := time.LoadLocation(ms.timezone); err == nil {
			loc = l
		}
	}
	dateFmt := p.EmailParam("date-fmt")
	if dateFmt == "" {
		dateFmt = "%A, %B %d %Y, %I:%M %p"
	}
	created := now
	if msg.Created > 0 {
		created = time.Unix(msg.Created, 0)
	}
	d := time.Duration(msg.Len) * time.Second
	v := map[string]string{
		"voicemail_current_folder":             firstNonEmpty(msg.Folder, "inbox"),
		"voicemail_total_new_messages":         itoa(c.New),
		"voicemail_total_saved_messages":       itoa(c.Saved),
		"voicemail_urgent_new_messages":        itoa(c.NewUrgent),
		"voicemail_urgent_saved_messages":      itoa(c.SavedUrgent),
		"voicemail_account":                    msg.User,
		"voicemail_domain":                     msg.Domain,
		"voicemail_caller_id_number":           msg.CIDNumber,
		"voicemail_formatted_caller_id_number": formatNumber(msg.CIDNumber),
		"voicemail_caller_id_name":             msg.CIDName,
		"voicemail_file_path":                  msg.Path,
		"voicemail_read_flags":                 msg.ReadFlags,
		"voicemail_time":                       strftime.Format(dateFmt, created.In(loc)),
		"voicemail_uuid":                       msg.UUID,
		"voicemail_priority":                   itoa(prio),
		"voicemail_message_len":                fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60),
		"RFC2822_DATE":                         now.In(loc).Format(time.RFC1123Z),
	}
	for name, val := range map[string]string{"voicemail_email": ms.to, "voicemail_email_from": ms.from, "voicemail_notify_email": ms.notifyTo} {
		if val != "" {
			v[name] = val
		}
	}
	return v
}

// formatNumber is switch_format_number: North American numbers as "1 (NXX) NXX-XXXX".
func formatNumber(num string) string {
	p := strings.TrimPrefix(num, "+")
	if p == "" || strings.Trim(p, "0123456789") != "" {
		return p
	}
	switch {
	case len(p) == 11 && p[0] == '1':
		return fmt.Sprintf("%c (%s) %s-%s", p[0], p[1:4], p[4:7], p[7:])
	case len(p) == 10:
		return fmt.Sprintf("1 (%s) %s-%s", p[:3], p[3:6], p[6:])
	}
	return num
}

// expander expands a template with the message variables first, then the channel's (when there
// is one), then globals.
func (m *Module) expander(s *core.Session, vars map[string]string) *core.Expander {
	return &core.Expander{
		Var: func(name string) (string, bool) {
			if v, ok := vars[name]; ok {
				return v, true
			}
			if s != nil {
				if v := s.Var(name); v != "" {
					return v, true
				}
			}
			return m.h.Global(name)
		},
		Global: m.h.Global,
	}
}

// mailNew sends the emails deliver_vm sends for a new message: the message itself to vm-mailto
// (vm-email-all-messages, with the file when vm-attach-file) and a notification to
// vm-notify-mailto (vm-notify-email-all-messages).
func (m *Module) mailNew(ctx context.Context, s *core.Session, p *Profile, ms mailSettings, msg *Message) {
	if !ms.emails() || !fileExists(msg.Path) {
		return
	}
	c, _ := m.Count(p.Name, msg.User, msg.Domain)
	vars := mailVars(p, ms, msg, c, time.Now())
	x := m.expander(s, vars)
	from := ms.from
	if from == "" {
		if ef := p.EmailParam("email-from"); ef == "" {
			from = msg.User + "@" + msg.Domain
		} else {
			from = x.Expand(ef)
		}
	}
	send := func(to string, notify, attach bool) {
		headers, body := m.template(p, notify)
		file := ""
		if attach {
			file = msg.Path
		}
		if err := m.email(ctx, to, from, m.headerString(x, headers, msg), m.body(x, body, msg), file, ms); err != nil {
			m.h.Log.Warn("voicemail: email failed", "to", to, "err", err)
		}
	}
	if ms.all && ms.to != "" {
		send(ms.to, false, ms.attach)
	}
	if ms.notifyAll {
		send(firstNonEmpty(ms.notifyTo, ms.to), true, false)
	}
}

// mailSaved is the email-key path: the message goes to vm-mailto (else email-addr) with its file
// attached. It reports whether an email was sent.
func (m *Module) mailSaved(ctx context.Context, s *core.Session, p *Profile, ms mailSettings, msg *Message) bool {
	to := firstNonEmpty(ms.to, ms.addr)
	if to == "" {
		return false
	}
	c, _ := m.Count(p.Name, msg.User, msg.Domain)
	ms.to = to
	vars := mailVars(p, ms, msg, c, time.Now())
	if s != nil {
		for k, v := range vars { // FreeSWITCH sets them on the channel on this path
			s.SetVar(k, v)
		}
	}
	x := m.expander(s, vars)
	headers, body := m.template(p, false)
	// QUIRK (mod_voicemail): here the From is the mailbox unless the profile has email headers.
	from := msg.User + "@" + msg.Domain
	if headers != "" {
		from = x.Expand(p.EmailParam("email-from"))
	}
	if err := m.email(ctx, to, from, m.headerString(x, headers, msg), m.body(x, body, msg), msg.Path, ms); err != nil {
		m.h.Log.Warn("voicemail: email failed", "to", to, "err", err)
		return false
	}
	return true
}

// headerString expands the headers (or FreeSWITCH's default ones), drops one trailing newline
// and adds X-Voicemail-Length.
func (m *Module) headerString(x *core.Expander, headers string, msg *Message) string {
	if headers == "" {
		prio := x.Expand("${voicemail_priority}")
		headers = fmt.Sprintf("From: FreeSWITCH mod_voicemail <%s@%s>\nSubject: Voicemail from %s %s\nX-Priority: %s",
			msg.User, msg.Domain, msg.CIDName, msg.CIDNumber, prio)
	} else {
		headers = x.Expand(headers)
	}
	headers = strings.TrimSuffix(headers, "\n")
	headers = strings.TrimSuffix(headers, "\r")
	return headers + "\nX-Voicemail-Length: " + strconv.Itoa(msg.Len)
}

func (m *Module) body(x *core.Expander, body string, msg *Message) string {
	if body == "" {
		return fmt.Sprintf("%d second Voicemail from %s %s", msg.Len, msg.CIDName, msg.CIDNumber)
	}
	return x.Expand(body)
}

// mailTimeout bounds one run of the mailer.
const mailTimeout = 30 * time.Second

// email is switch_simple_email: it composes the message (MIME multipart when a file is attached
// or the body brings its own Content-Type) and pipes it into switch.conf's mailer-app
// ("sendmail", args "-t") as `<mailer-app> -f <from> <mailer-app-args> <to>`.
func (m *Module) email(ctx context.Context, to, from, headers, body, file string, ms mailSettings) error {
	if to == "" {
		return errors.New("no to address specified")
	}
	ctx = context.WithoutCancel(ctx) // a caller hanging up after the beep still gets the email out
	if file != "" && ms.convertCmd != "" && ms.convertExt != "" {
		if ext := filepath.Ext(file); ext != "" {
			conv := strings.TrimSuffix(file, ext) + "." + ms.convertExt
			if conv != file {
				args := append(strings.Fields(ms.convertCmd), file, conv)
				cctx, cancel := context.WithTimeout(ctx, mailTimeout)
				err := exec.CommandContext(cctx, args[0], args[1:]...).Run()
				cancel()
				if err != nil {
					m.h.Log.Warn("voicemail: convert-cmd failed", "cmd", ms.convertCmd, "err", err)
				} else {
					defer os.Remove(conv)
					file = conv
				}
			}
		}
	}
	msg, err := composeEmail(headers, body, file)
	if err != nil {
		return err
	}
	if from == "" {
		from = "freeswitch"
	}
	app, appArgs := m.mailer()
	argv := strings.Fields(app)
	if len(argv) == 0 {
		return errors.New("no mailer-app")
	}
	argv = append(argv, "-f", from)
	argv = append(argv, strings.Fields(appArgs)...)
	argv = append(argv, to)
	cctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// mailer returns switch.conf's mailer-app and mailer-app-args.
func (m *Module) mailer() (app, args string) {
	app, args = "sendmail", "-t"
	if sw := m.h.Config().Configuration("switch.conf"); sw != nil {
		for _, p := range sw.FindElements("settings/param") {
			switch val := p.SelectAttrValue("value", ""); p.SelectAttrValue("name", "") {
			case "mailer-app":
				if val != "" {
					app = val
				}
			case "mailer-app-args":
				args = val
			}
		}
	}
	return app, args
}

// audioTypes are FreeSWITCH's mime.types entries for the formats voicemail stores, so the
// attachment's type does not depend on the host's mime database.
var audioTypes = map[string]string{"wav": "audio/x-wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "gsm": "audio/x-gsm"}

// composeEmail lays the message out as switch_simple_email does, byte for byte in structure:
// boundary XXXX_boundary_XXXX, base64 in 72-column lines, a Content-ID of ATTACHED@freeswitch.org.
func composeEmail(headers, body, file string) ([]byte, error) {
	var data []byte
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, err
		}
	}
	const bound = "XXXX_boundary_XXXX"
	ownType := strings.Contains(strings.ToLower(body), "content-type")
	multipart := file != "" || ownType
	var b bytes.Buffer
	if multipart {
		fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n", bound)
	}
	b.WriteString(headers)
	b.WriteString("\n\n")
	if multipart {
		if ownType {
			fmt.Fprintf(&b, "--%s\n", bound)
		} else {
			fmt.Fprintf(&b, "--%s\nContent-Type: text/plain\n\n", bound)
		}
	}
	b.WriteString(body)
	if file != "" {
		name := filepath.Base(file)
		typ := "audio/inline"
		if ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), ".")); ext != "" {
			if t, ok := audioTypes[ext]; ok {
				typ = t
			} else if t := mime.TypeByExtension("." + ext); t != "" {
				typ, _, _ = strings.Cut(t, ";")
			}
		}
		fmt.Fprintf(&b, "\n\n--%s\nContent-Type: %s; name=\"%s\"\nContent-ID: <ATTACHED@freeswitch.org>\n"+
			"Content-Transfer-Encoding: base64\nContent-Description: Sound attachment.\n"+
			"Content-Disposition: attachment; filename=\"%s\"\n\n", bound, typ, name, name)
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 72 {
			b.WriteString(enc[:72])
			b.WriteByte('\n')
			enc = enc[72:]
		}
		b.WriteString(enc)
	}
	if multipart {
		fmt.Fprintf(&b, "\n\n--%s--\n.\n", bound)
	}
	return b.Bytes(), nil
}
