package sip

import (
	"strings"

	"github.com/goswitch/goswitch/core"
)

// RegistrationRows implements core.RegistrationLister for `show registrations`.
func (e *Endpoint) RegistrationRows() []core.RegistrationRow {
	regs := e.Registrations()
	out := make([]core.RegistrationRow, 0, len(regs))
	for _, r := range regs {
		realm := r.Realm
		if realm == "" {
			realm = r.Host
		}
		out = append(out, core.RegistrationRow{
			User: r.User, Realm: realm, Token: r.CallID, URL: r.ContactURI, Expires: r.Expires.Unix(),
			NetworkIP: r.NetworkIP, NetworkPort: r.NetworkPort, NetworkProto: strings.ToLower(r.Transport),
			Metadata: r.UserAgent,
		})
	}
	return out
}
