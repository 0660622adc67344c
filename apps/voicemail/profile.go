// Package voicemail is mod_voicemail: leaving messages (greeting, beep, record, store under
// <storage>/voicemail/<profile>/<domain>/<id>/msg_<uuid>.wav, index in sqlite), mailbox login
// and retrieval with FreeSWITCH's key map, greetings and recorded names, MESSAGE_WAITING events,
// email (voicemail.tpl / notify-voicemail.tpl through switch.conf's mailer-app) and the
// vm_boxcount, vm_list, vm_read, vm_delete, vm_prefs and vm_inject APIs.
package voicemail

import (
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// defaults are mod_voicemail's profile parameter defaults.
var defaults = map[string]string{
	"terminator-key": "#", "play-new-messages-key": "1", "play-saved-messages-key": "2",
	"play-new-messages-lifo": "false", "play-saved-messages-lifo": "false",
	"login-keys": "0", "main-menu-key": "0", "skip-greet-key": "#", "skip-info-key": "*",
	"config-menu-key": "5", "record-greeting-key": "1", "choose-greeting-key": "2",
	"record-name-key": "3", "change-pass-key": "6", "record-file-key": "3", "listen-file-key": "1",
	"save-file-key": "2", "delete-file-key": "7", "undelete-file-key": "8", "email-key": "4",
	"callback-key": "5", "pause-key": "0", "restart-key": "1", "ff-key": "6", "rew-key": "4",
	"previous-message-key": "1", "next-message-key": "3", "repeat-message-key": "0",
	"urgent-key": "*", "operator-key": "", "vmain-key": "", "vmain-extension": "", "forward-key": "8",
	"prepend-key": "1", "file-extension": "wav", "operator-extension": "",
	"tone-spec": "%(1000, 0, 640)", "storage-dir": "", "storage-dir-shared": "false",
	"callback-dialplan": "XML", "callback-context": "default", "play-date-announcement": "first",
	"digit-timeout": "10000", "max-login-attempts": "3", "min-record-len": "3", "max-record-len": "300",
	"max-retries": "3", "record-silence-threshold": "200", "record-silence-hits": "2",
	"db-password-override": "false", "allow-empty-password-auth": "true", "send-full-vm-header": "false",
}

// Profile is one <profile> of voicemail.conf.
type Profile struct {
	Name   string
	params map[string]string
	email  map[string]string // <email><param>: template-file, notify-template-file, date-fmt, email-from
	// <email><headers>/<body> text, replaced by template files when those are set.
	emailHeaders, emailBody string
}

// Param returns a parameter with mod_voicemail's default.
func (p *Profile) Param(name string) string {
	if v, ok := p.params[name]; ok {
		return v
	}
	return defaults[name]
}

// EmailParam returns an <email> parameter ("" when unset).
func (p *Profile) EmailParam(name string) string { return p.email[name] }

// Int returns a numeric parameter.
func (p *Profile) Int(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(p.Param(name)))
	if err != nil {
		n, _ = strconv.Atoi(defaults[name])
	}
	return n
}

// Bool returns a boolean parameter.
func (p *Profile) Bool(name string) bool {
	switch strings.ToLower(p.Param(name)) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

// LoadProfiles reads voicemail.conf; a "default" profile always exists.
func LoadProfiles(snap *xmlconf.Snapshot) map[string]*Profile {
	out := map[string]*Profile{}
	if conf := snap.Configuration("voicemail.conf"); conf != nil {
		for _, ps := range conf.SelectElements("profiles") {
			for _, pe := range ps.SelectElements("profile") {
				p := &Profile{Name: pe.SelectAttrValue("name", ""), params: map[string]string{}}
				for _, x := range pe.SelectElements("param") {
					p.params[x.SelectAttrValue("name", "")] = x.SelectAttrValue("value", "")
				}
				p.email = map[string]string{}
				if e := pe.SelectElement("email"); e != nil {
					for _, x := range e.SelectElements("param") {
						p.email[x.SelectAttrValue("name", "")] = x.SelectAttrValue("value", "")
					}
					if x := e.SelectElement("headers"); x != nil {
						p.emailHeaders = x.Text()
					}
					if x := e.SelectElement("body"); x != nil {
						p.emailBody = x.Text()
					}
				}
				out[p.Name] = p
			}
		}
	}
	if out["default"] == nil {
		out["default"] = &Profile{Name: "default", params: map[string]string{}, email: map[string]string{}}
	}
	return out
}
