package voicemail

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
)

const (
	listUsage   = "<id>@<domain>[/profile] [xml]"
	deleteUsage = "<id>@<domain>[/profile] [<uuid>]"
	readUsage   = "<id>@<domain>[/profile] <read|unread> [<uuid>]"
	prefsUsage  = "[profile/]<user>@<domain>[|[name_path|greeting_path|password]]"
	errNoBox    = "-ERR can't find user or profile.\n"
)

func init() {
	for _, a := range []core.APIInfo{
		{Name: "vm_list", Syntax: listUsage, Fn: apiList},
		{Name: "vm_delete", Syntax: deleteUsage, Fn: apiDelete},
		{Name: "vm_read", Syntax: readUsage, Fn: apiRead},
		{Name: "vm_prefs", Syntax: prefsUsage, Fn: apiPrefs},
	} {
		a.Module, a.Short = moduleName, a.Name
		core.RegisterAPI(a)
	}
}

// boxArgs is the argument shape shared by vm_list, vm_delete and vm_read, split the way
// mod_voicemail does: the first '@' ends the id, a '/' after it starts the profile, then
// blank-separated words follow the last of those.
type boxArgs struct {
	id, domain, profile string
	words               []string
}

func parseBoxArgs(cmd string, maxWords int) (boxArgs, bool) {
	a := boxArgs{profile: "default"}
	id, rest, ok := strings.Cut(strings.TrimSpace(cmd), "@")
	if !ok {
		return a, false
	}
	a.id = id
	head, tail, _ := strings.Cut(rest, " ")
	if d, p, ok := strings.Cut(head, "/"); ok {
		a.domain, a.profile = d, p
	} else {
		a.domain = head
	}
	if tail != "" {
		a.words = strings.SplitN(tail, " ", maxWords)
	}
	return a, true
}

func (a boxArgs) word(i int) string {
	if i < len(a.words) {
		return a.words[i]
	}
	return ""
}

// module finds mod_voicemail and the named profile; it writes FreeSWITCH's error when either
// is missing.
func boxModule(h *core.Host, a boxArgs, ok bool, w io.Writer) (*Module, *Profile, error) {
	m := Of(h)
	var p *Profile
	if m != nil && ok {
		p = LoadProfiles(h.Config())[a.profile]
	}
	if p == nil {
		_, err := io.WriteString(w, errNoBox)
		return nil, nil, err
	}
	return m, p, nil
}

// apiList is vm_list <id>@<domain>[/profile] [xml]: one line per message,
// created_epoch:read_epoch:username:domain:in_folder:file_path:uuid:cid_name:cid_number:message_len,
// or <voicemail><message>...</message></voicemail> with xml. A uuid after the format narrows the
// list to one message, as in mod_voicemail.
func apiList(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	if strings.TrimSpace(args) == "" {
		_, err := io.WriteString(w, "Usage: "+listUsage+"\n")
		return err
	}
	a, ok := parseBoxArgs(args, 2)
	m, p, err := boxModule(h, a, ok, w)
	if m == nil {
		return err
	}
	msgs, err := m.list(p.Name, a.id, a.domain, a.word(1))
	if err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	var b strings.Builder
	asXML := strings.EqualFold(a.word(0), "xml")
	if asXML {
		b.WriteString("<voicemail>\n")
	}
	for _, x := range msgs {
		if !asXML {
			fmt.Fprintf(&b, "%d:%d:%s:%s:%s:%s:%s:%s:%s:%d\n", x.Created, x.Read, x.User, x.Domain, x.Folder,
				x.Path, x.UUID, x.CIDName, x.CIDNumber, x.Len)
			continue
		}
		b.WriteString(" <message>\n")
		for _, kv := range [][2]string{
			{"created_epoch", itoa(int(x.Created))}, {"read_epoch", itoa(int(x.Read))}, {"username", x.User},
			{"domain", x.Domain}, {"folder", x.Folder}, {"path", x.Path}, {"uuid", x.UUID},
			{"cid-name", x.CIDName}, {"cid-number", x.CIDNumber}, {"message-len", itoa(x.Len)},
		} {
			// mod_voicemail writes the values raw; we escape them so a caller id with '&' or '<'
			// still gives a document that parses.
			fmt.Fprintf(&b, "  <%s>%s</%s>\n", kv[0], xmlEscape(kv[1]), kv[0])
		}
		b.WriteString(" </message>\n")
	}
	if asXML {
		b.WriteString("</voicemail>\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func xmlEscape(s string) string {
	if !strings.ContainsAny(s, `<>&'"`) {
		return s
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// list returns every message of a mailbox (all folders and flags, as vm_list shows them) in the
// order they arrived; uuid, when set, selects one.
func (m *Module) list(profile, id, domain, uuid string) ([]Message, error) {
	db, err := m.DB(profile)
	if err != nil {
		return nil, err
	}
	q := `SELECT created_epoch, read_epoch, username, domain, uuid, coalesce(cid_name,''), coalesce(cid_number,''),
		coalesce(in_folder,''), coalesce(file_path,''), coalesce(message_len,0), coalesce(flags,''),
		coalesce(read_flags,''), coalesce(forwarded_by,'') FROM voicemail_msgs WHERE username = ? AND domain = ?`
	args := []any{id, domain}
	if uuid != "" {
		q += ` AND uuid = ?`
		args = append(args, uuid)
	}
	rows, err := db.Query(q+` ORDER BY created_epoch, rowid`, args...)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

// apiDelete is vm_delete <id>@<domain>[/profile] [<uuid>]: it removes one message, or the whole
// mailbox, files included, and updates MWI.
func apiDelete(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	if strings.TrimSpace(args) == "" {
		_, err := io.WriteString(w, "Usage: "+deleteUsage+"\n")
		return err
	}
	a, ok := parseBoxArgs(args, 1)
	m, p, err := boxModule(h, a, ok, w)
	if m == nil {
		return err
	}
	// mod_voicemail deletes a uuid wherever it is; we keep to the named mailbox so a stray uuid
	// cannot remove someone else's message (uuids are unique, so the result is otherwise the same).
	msgs, err := m.list(p.Name, a.id, a.domain, a.word(0))
	if err == nil {
		for _, x := range msgs {
			if x.Path != "" {
				os.Remove(x.Path)
			}
		}
		if a.word(0) != "" {
			err = m.exec(p.Name, `DELETE FROM voicemail_msgs WHERE username = ? AND domain = ? AND uuid = ?`, a.id, a.domain, a.word(0))
		} else {
			err = m.exec(p.Name, `DELETE FROM voicemail_msgs WHERE username = ? AND domain = ?`, a.id, a.domain)
		}
	}
	if err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	m.MWI(p.Name, a.id, a.domain, "DELETE")
	_, err = io.WriteString(w, "+OK\n")
	return err
}

// apiRead is vm_read <id>@<domain>[/profile] <read|unread> [<uuid>]: it marks one message, or the
// whole mailbox, read (read_epoch = now) or unread (read_epoch = 0, flags cleared) and updates MWI.
//
// QUIRK not copied: without a uuid mod_voicemail updates every message of the domain; we update
// the named mailbox only.
func apiRead(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	if strings.TrimSpace(args) == "" {
		_, err := io.WriteString(w, "Usage: "+readUsage+"\n")
		return err
	}
	a, ok := parseBoxArgs(args, 2)
	how := strings.ToLower(a.word(0))
	m, p, err := boxModule(h, a, ok && (how == "read" || how == "unread"), w)
	if m == nil {
		return err
	}
	set, sargs := `read_epoch = ?`, []any{time.Now().Unix()}
	if how == "unread" {
		set, sargs = `read_epoch = 0, flags = ''`, nil
	}
	q := `UPDATE voicemail_msgs SET ` + set + ` WHERE username = ? AND domain = ?`
	sargs = append(sargs, a.id, a.domain)
	if uuid := a.word(1); uuid != "" {
		q += ` AND uuid = ?`
		sargs = append(sargs, uuid)
	}
	if err := m.exec(p.Name, q, sargs...); err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	m.MWI(p.Name, a.id, a.domain, "READ")
	_, err = io.WriteString(w, "+OK\n")
	return err
}

// apiPrefs is vm_prefs [profile/]<user>@<domain>[|name_path|greeting_path|password]: one field of
// the mailbox's voicemail_prefs row (greeting_path by default), or
// greeting_path:name_path:password for any other selector. Like vm_boxcount it prints no newline.
func apiPrefs(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	cmd := strings.TrimSpace(args)
	profile, id := "", cmd
	if p, rest, ok := strings.Cut(cmd, "/"); ok {
		profile, id = p, rest
	}
	id = strings.TrimPrefix(id, "sip:")
	if cmd == "" || id == "" {
		_, err := io.WriteString(w, "0")
		return err
	}
	user, rest, ok := strings.Cut(id, "@")
	if !ok {
		_, err := io.WriteString(w, "-ERR No domain specified\n")
		return err
	}
	domain, how, _ := strings.Cut(rest, "|")
	if how == "" {
		how = "greeting_path"
	}
	m := Of(h)
	profiles := LoadProfiles(h.Config())
	if m == nil || profile != "" && profiles[profile] == nil {
		_, err := io.WriteString(w, "-ERR No such profile\n")
		return err
	}
	prefs, err := m.prefs(firstNonEmpty(profile, "default"), user, domain)
	if err != nil {
		_, werr := fmt.Fprintf(w, "-ERR %v\n", err)
		return werr
	}
	var out string
	switch strings.ToLower(how) {
	case "greeting_path":
		out = prefs.GreetingPath
	case "name_path":
		out = prefs.NamePath
	case "password":
		out = prefs.Password
	default:
		out = prefs.GreetingPath + ":" + prefs.NamePath + ":" + prefs.Password
	}
	_, err = io.WriteString(w, out)
	return err
}
