package voicemail_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/apps/voicemail"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
)

func apiOut(t *testing.T, h *core.Host, cmd, args string) string {
	t.Helper()
	out, err := h.APIOutput(context.Background(), cmd, args)
	if err != nil {
		t.Fatalf("%s %s: %v", cmd, args, err)
	}
	return out
}

func TestListReadDeleteAPIs(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.MessageWaiting }, 64)
	defer sub.Close()
	first := inject(t, h, "1000", 700) // uuid inj-1, Bob <5551212>, 3 s
	if got := apiOut(t, h, "vm_inject", "1000@example.com "+first+" 5559999 Carol"); got != "+OK 1 message injected\n" {
		t.Fatalf("vm_inject: %q", got)
	}

	lines := strings.Split(strings.TrimSuffix(apiOut(t, h, "vm_list", "1000@example.com"), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("vm_list: %q", lines)
	}
	var created int64
	if _, err := fmt.Sscanf(lines[0], "%d:", &created); err != nil {
		t.Fatalf("vm_list line %q: %v", lines[0], err)
	}
	if want := fmt.Sprintf("%d:0:1000:example.com:inbox:%s:inj-1:Bob:5551212:3", created, first); lines[0] != want {
		t.Errorf("vm_list line\n got %q\nwant %q", lines[0], want)
	}
	f := strings.Split(lines[1], ":")
	if len(f) != 10 || f[2] != "1000" || f[6] == "" || f[7] != "Carol" || f[8] != "5559999" || f[9] != "3" {
		t.Errorf("vm_list injected line: %q", lines[1])
	}
	second := f[6]

	var doc struct {
		XMLName  xml.Name `xml:"voicemail"`
		Messages []struct {
			Created  int64  `xml:"created_epoch"`
			Read     int64  `xml:"read_epoch"`
			User     string `xml:"username"`
			Domain   string `xml:"domain"`
			Folder   string `xml:"folder"`
			Path     string `xml:"path"`
			UUID     string `xml:"uuid"`
			CIDName  string `xml:"cid-name"`
			CIDNum   string `xml:"cid-number"`
			Len      int    `xml:"message-len"`
			Unparsed []byte `xml:",innerxml"`
		} `xml:"message"`
	}
	out := apiOut(t, h, "vm_list", "1000@example.com/default xml")
	if !strings.HasPrefix(out, "<voicemail>\n <message>\n  <created_epoch>") || !strings.HasSuffix(out, " </message>\n</voicemail>\n") {
		t.Errorf("vm_list xml layout:\n%s", out)
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("vm_list xml: %v\n%s", err, out)
	}
	if len(doc.Messages) != 2 || doc.Messages[0].UUID != "inj-1" || doc.Messages[0].Path != first ||
		doc.Messages[0].Folder != "inbox" || doc.Messages[0].CIDName != "Bob" || doc.Messages[0].Len != 3 {
		t.Errorf("vm_list xml: %+v", doc.Messages)
	}
	if out := apiOut(t, h, "vm_list", "1000@example.com xml "+second); strings.Count(out, "<message>") != 1 || !strings.Contains(out, "<uuid>"+second+"</uuid>") {
		t.Errorf("vm_list one uuid:\n%s", out)
	}
	for args, want := range map[string]string{
		"":                           "Usage: <id>@<domain>[/profile] [xml]\n",
		"1000":                       "-ERR can't find user or profile.\n",
		"1000@example.com/nosuch":    "-ERR can't find user or profile.\n",
		"1002@example.com":           "",
		"1000@example.com xml nouid": "<voicemail>\n</voicemail>\n",
	} {
		if got := apiOut(t, h, "vm_list", args); got != want {
			t.Errorf("vm_list %q = %q, want %q", args, got, want)
		}
	}

	// vm_read: one message read, then the whole box unread again.
	if got := apiOut(t, h, "vm_read", "1000@example.com read inj-1"); got != "+OK\n" {
		t.Errorf("vm_read: %q", got)
	}
	if got := boxcount(t, h, "1000@example.com|all"); got != "1:1:0:0" {
		t.Errorf("after vm_read read: %q", got)
	}
	waitMWI(t, sub, "1/1", "READ")
	if got := apiOut(t, h, "vm_read", "1000@example.com/default unread"); got != "+OK\n" {
		t.Errorf("vm_read unread: %q", got)
	}
	if got := boxcount(t, h, "1000@example.com|all"); got != "2:0:0:0" {
		t.Errorf("after vm_read unread: %q", got)
	}
	for args, want := range map[string]string{
		"":                        "Usage: <id>@<domain>[/profile] <read|unread> [<uuid>]\n",
		"1000@example.com":        "-ERR can't find user or profile.\n",
		"1000@example.com seen":   "-ERR can't find user or profile.\n",
		"1000@example.com/x read": "-ERR can't find user or profile.\n",
	} {
		if got := apiOut(t, h, "vm_read", args); got != want {
			t.Errorf("vm_read %q = %q, want %q", args, got, want)
		}
	}

	// vm_delete: one message (file too), then the rest of the box.
	if got := apiOut(t, h, "vm_delete", "1000@example.com inj-1"); got != "+OK\n" {
		t.Errorf("vm_delete: %q", got)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("deleted message's file is still there (%v)", err)
	}
	if got := boxcount(t, h, "1000@example.com|all"); got != "1:0:0:0" {
		t.Errorf("after vm_delete uuid: %q", got)
	}
	if got := apiOut(t, h, "vm_delete", "1000@example.com/default"); got != "+OK\n" {
		t.Errorf("vm_delete box: %q", got)
	}
	waitMWI(t, sub, "0/0", "DELETE")
	if got := apiOut(t, h, "vm_list", "1000@example.com"); got != "" {
		t.Errorf("vm_list after delete: %q", got)
	}
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(first), "msg_*")); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
	if got := apiOut(t, h, "vm_delete", ""); got != "Usage: <id>@<domain>[/profile] [<uuid>]\n" {
		t.Errorf("vm_delete usage: %q", got)
	}
}

// waitMWI waits for a MESSAGE_WAITING event of 1000@example.com with MWI-Voice-Message want and
// mod_voicemail's Update-Reason.
func waitMWI(t *testing.T, sub interface{ C() <-chan *event.Event }, want, reason string) {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case e := <-sub.C():
			if e.Get("MWI-Message-Account") == "1000@example.com" && e.Get("MWI-Voice-Message") == want && e.Get("Update-Reason") == reason {
				return
			}
		case <-timeout:
			t.Fatalf("no MWI %s", want)
		}
	}
}

func TestPrefsAPI(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	db, err := voicemail.Of(h).DB("default")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `INSERT INTO voicemail_prefs VALUES ('1000', 'example.com', '/vm/name.wav', '/vm/greeting_2.wav', '9876')`); err != nil {
		t.Fatal(err)
	}
	for args, want := range map[string]string{
		"1000@example.com":                        "/vm/greeting_2.wav",
		"1000@example.com|greeting_path":          "/vm/greeting_2.wav",
		"default/1000@example.com|name_path":      "/vm/name.wav",
		"default/sip:1000@example.com|password":   "9876",
		"1000@example.com|everything":             "/vm/greeting_2.wav:/vm/name.wav:9876",
		"1002@example.com|everything":             "::",
		"1002@example.com":                        "",
		"":                                        "0",
		"1000":                                    "-ERR No domain specified\n",
		"nosuch/1000@example.com":                 "-ERR No such profile\n",
		"default/":                                "0",
		"default/1000@example.com|NAME_PATH":      "/vm/name.wav",
		"default/1000@other.example.com|password": "",
	} {
		if got := apiOut(t, h, "vm_prefs", args); got != want {
			t.Errorf("vm_prefs %q = %q, want %q", args, got, want)
		}
	}
}

// mailHost is vmConf with a fake mailer (a script that keeps each message and its arguments
// under dir, named after the recipient), email templates and mailboxes that take email.
func mailHost(t *testing.T) (*core.Host, string) {
	t.Helper()
	dir := t.TempDir()
	mailer := filepath.Join(dir, "fake-sendmail")
	script := "#!/bin/sh\nfor to; do :; done\nprintf '%s\\n' \"$@\" > \"" + dir + "/$to.args\"\ncat > \"" + dir + "/$to.eml\"\n"
	if err := os.WriteFile(mailer, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tpl := filepath.Join(dir, "voicemail.tpl")
	if err := os.WriteFile(tpl, []byte("From: \"${voicemail_caller_id_name}\" <${voicemail_caller_id_number}@${voicemail_domain}>\n"+
		"To: ${voicemail_email}\nSubject: Voicemail from \"${voicemail_caller_id_name}\" <${voicemail_caller_id_number}> ${voicemail_message_len}\n"+
		"X-Priority: ${voicemail_priority}\nX-Mailer: FreeSWITCH\n\n"+
		"Created: ${voicemail_time}\nFrom: ${voicemail_formatted_caller_id_number}\nAccount: ${voicemail_account}@${voicemail_domain}\n"+
		"New: ${voicemail_total_new_messages} Folder: ${voicemail_current_folder} Flags: ${voicemail_read_flags}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := filepath.Join(dir, "notify-voicemail.tpl")
	if err := os.WriteFile(notify, []byte("To: <${voicemail_notify_email}>\nSubject: New voicemail for ${voicemail_account}\n\nYou have ${voicemail_total_new_messages} new.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(vmConf, `<param name="operator-key" value="9"/>`, `<param name="operator-key" value="9"/>
      <email>
        <param name="template-file" value="`+tpl+`"/>
        <param name="notify-template-file" value="`+notify+`"/>
        <param name="date-fmt" value="%Y-%m-%d"/>
        <param name="email-from" value="vm-${voicemail_account}@${voicemail_domain}"/>
      </email>`, 1)
	conf = strings.Replace(conf, `</users>`, `
      <user id="1003"><params><param name="vm-password" value="3333"/><param name="vm-mailto" value="alice@example.net"/>
        <param name="vm-email-all-messages" value="true"/><param name="vm-attach-file" value="true"/></params></user>
      <user id="1004"><params><param name="vm-notify-mailto" value="pager@example.net"/>
        <param name="vm-notify-email-all-messages" value="true"/></params></user>
      <user id="1005"><params><param name="vm-mailto" value="carol@example.net"/>
        <param name="vm-email-all-messages" value="true"/><param name="vm-delete-file" value="true"/></params></user>
    </users>`, 1)
	conf = strings.Replace(conf, `<section name="configuration">`, `<section name="configuration">
<configuration name="switch.conf"><settings>
  <param name="mailer-app" value="`+mailer+`"/>
  <param name="mailer-app-args" value="-t"/>
</settings></configuration>`, 1)
	return playtest.NewHost(t, playtest.Conf(conf)), dir
}

func readMail(t *testing.T, dir, to string) (args, msg string) {
	t.Helper()
	a, err := os.ReadFile(filepath.Join(dir, to+".args"))
	if err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	m, err := os.ReadFile(filepath.Join(dir, to+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(a), string(m)
}

// attachment returns the base64 part of a message composed like switch_simple_email.
func attachment(t *testing.T, msg string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(msg, "Content-Disposition: attachment; filename=\"")
	if !ok {
		t.Fatalf("no attachment in:\n%s", msg)
	}
	_, rest, _ = strings.Cut(rest, "\n\n")
	b64, _, _ := strings.Cut(rest, "\n\n--XXXX_boundary_XXXX--\n.\n")
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b64, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEmailNewMessages(t *testing.T) {
	t.Parallel()
	h, dir := mailHost(t)
	src := inject(t, h, "1000", 700)
	wav, _ := os.ReadFile(src)
	for _, box := range []string{"1003", "1004", "1005"} {
		if got := apiOut(t, h, "vm_inject", box+"@example.com "+src+" 2125551234 'Alice Smith'"); got != "+OK 1 message injected\n" {
			t.Fatalf("vm_inject %s: %q", box, got)
		}
	}
	today := time.Now().Format("2006-01-02")

	// vm-mailto + vm-email-all-messages + vm-attach-file: the template, the file attached.
	args, msg := readMail(t, dir, "alice@example.net")
	if args != "-f\nvm-1003@example.com\n-t\nalice@example.net\n" {
		t.Errorf("mailer arguments: %q", args)
	}
	for _, want := range []string{
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XXXX_boundary_XXXX\"\n" +
			"From: \"Alice Smith\" <2125551234@example.com>\nTo: alice@example.net\n" +
			"Subject: Voicemail from \"Alice Smith\" <2125551234> 00:00:03\nX-Priority: 3\nX-Mailer: FreeSWITCH\n" +
			"X-Voicemail-Length: 3\n\n--XXXX_boundary_XXXX\nContent-Type: text/plain\n\n" +
			"Created: " + today + "\nFrom: 1 (212) 555-1234\nAccount: 1003@example.com\nNew: 1 Folder: inbox Flags: B_NORMAL\n",
		"\n\n--XXXX_boundary_XXXX\nContent-Type: audio/x-wav; name=\"msg_",
		"Content-ID: <ATTACHED@freeswitch.org>\nContent-Transfer-Encoding: base64\nContent-Description: Sound attachment.\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("mail to alice lacks %q:\n%s", want, msg)
		}
	}
	if got := attachment(t, msg); string(got) != string(wav) {
		t.Errorf("attachment: %d bytes, want the %d-byte message", len(got), len(wav))
	}
	if got := boxcount(t, h, "1003@example.com"); got != "1" {
		t.Errorf("1003 keeps its message: %q", got)
	}

	// vm-notify-mailto + vm-notify-email-all-messages: the notify template, no attachment.
	_, msg = readMail(t, dir, "pager@example.net")
	if want := "To: <pager@example.net>\nSubject: New voicemail for 1004\nX-Voicemail-Length: 3\n\nYou have 1 new.\n"; msg != want {
		t.Errorf("notify mail:\n got %q\nwant %q", msg, want)
	}

	// vm-delete-file: the message leaves by email (attached) and is not kept.
	_, msg = readMail(t, dir, "carol@example.net")
	if got := attachment(t, msg); string(got) != string(wav) {
		t.Errorf("vm-delete-file attachment: %d bytes", len(got))
	}
	if got := boxcount(t, h, "1005@example.com|all"); got != "0:0:0:0" {
		t.Errorf("1005 kept a message: %q", got)
	}
	if files, _ := filepath.Glob(filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1005", "msg_*")); len(files) != 0 {
		t.Errorf("1005 files: %v", files)
	}
	// Mailboxes without email settings send nothing.
	if mails, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(mails) != 3 {
		t.Errorf("mails: %v", mails)
	}
}

func TestEmailKey(t *testing.T) {
	t.Parallel()
	h, dir := mailHost(t)
	inject(t, h, "1003", 1300)
	c, pc := playtest.NewCall(t, h, "1003")
	playtest.Run(t, c, "voicemail", "check default example.com 1003")
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("3333#")
	time.Sleep(400 * time.Millisecond)
	pc.DTMF("1") // new messages
	waitTone(t, pc, 1300, 20*time.Second)
	time.Sleep(3200 * time.Millisecond) // 4 is rew-key while the message plays; the menu follows it
	pc.DTMF("4")                        // email-key: emails the message, marks it deleted
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "alice@example.net.eml")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("#")
	time.Sleep(300 * time.Millisecond)
	pc.DTMF("#")
	playtest.Wait(t, c, 20*time.Second)
	args, msg := readMail(t, dir, "alice@example.net")
	if args != "-f\nvm-1003@example.com\n-t\nalice@example.net\n" {
		t.Errorf("mailer arguments: %q", args)
	}
	if !strings.Contains(msg, "Subject: Voicemail from \"Bob\" <5551212> 00:00:03\n") || !strings.Contains(msg, "filename=\"msg_injected.wav\"") {
		t.Errorf("email-key mail:\n%.600s", msg)
	}
	if c.Var("voicemail_email") != "alice@example.net" || c.Var("voicemail_account") != "1003" {
		t.Errorf("channel variables: voicemail_email=%q voicemail_account=%q", c.Var("voicemail_email"), c.Var("voicemail_account"))
	}
	if got := boxcount(t, h, "1003@example.com|all"); got != "0:0:0:0" {
		t.Errorf("emailed message not deleted: %q", got)
	}
}
