package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/goswitch/goswitch/core/esl"
	"github.com/goswitch/goswitch/core/xmlconf"
	"github.com/goswitch/goswitch/endpoints/sip"
)

// security reports the unsafe defaults the daemon refuses (or, with -insecure, only warns
// about) as errors: the event socket's stock password on a non-loopback address, and directory
// users whose password anyone can guess (1234, empty, or an a1-hash of either) while a SIP
// profile listens beyond loopback.
func (c *checkReport) security(snap *xmlconf.Snapshot) {
	if cfg, err := esl.ParseConfig(snap); err == nil && cfg.ExposedDefaultPassword() && snap.Configuration("event_socket.conf") != nil {
		pos := snap.Pos(snap.Configuration("event_socket.conf"))
		for _, p := range snap.Configuration("event_socket.conf").FindElements("settings/param") {
			if strings.EqualFold(p.SelectAttrValue("name", ""), "password") {
				pos = snap.Pos(p)
			}
		}
		c.add(xmlconf.Diag{Pos: pos, Msg: fmt.Sprintf("event socket listens on %s with the default password %s: goswitch refuses to open it (set another password, or listen-ip 127.0.0.1)", cfg.ListenIP, esl.DefaultPassword)})
	}
	exposed, allowed := "", ""
	if sc := snap.Configuration("sofia.conf"); sc != nil {
		for _, pe := range sc.FindElements("profiles/profile") {
			ip := "127.0.0.1"
			for _, p := range pe.FindElements("settings/param") {
				switch p.SelectAttrValue("name", "") {
				case "sip-ip":
					ip = strings.TrimSpace(p.SelectAttrValue("value", ""))
				case "allow-default-password":
					if v := strings.ToLower(p.SelectAttrValue("value", "")); v == "true" || v == "yes" || v == "on" || v == "1" {
						allowed = pe.SelectAttrValue("name", "")
					}
				}
			}
			if a, err := netip.ParseAddr(ip); err == nil && !a.Unmap().IsLoopback() && exposed == "" {
				exposed = pe.SelectAttrValue("name", "") + " (" + ip + ")"
			}
		}
	}
	if exposed == "" {
		return
	}
	for _, d := range snap.Directory().Domains() {
		var weak []*xmlconf.User
		for _, u := range d.Users {
			if sip.WeakSecret(u, u.ID, d.Name) != "" {
				weak = append(weak, u)
			}
		}
		if len(weak) == 0 {
			continue
		}
		ids := make([]string, 0, 5)
		for _, u := range weak[:min(len(weak), 5)] {
			ids = append(ids, u.ID)
		}
		more := ""
		if len(weak) > 5 {
			more = ", ..."
		}
		what := "so goswitch refuses their registrations and calls from public addresses"
		if allowed != "" {
			what = "and profile " + allowed + " sets allow-default-password: anyone can register and call as them"
		}
		c.add(xmlconf.Diag{Pos: weak[0].Pos, Msg: fmt.Sprintf("%d user(s) of domain %s have a default or empty password (%s%s; %s): profile %s listens beyond loopback, %s; set real passwords",
			len(weak), d.Name, strings.Join(ids, ", "), more, sip.WeakSecret(weak[0], weak[0].ID, d.Name), exposed, what)})
	}
}
