package sip

import (
	"strings"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// MultiReg is a profile's multiple-registrations setting: how many registrations a user keeps
// on the profile (sofia_reg.c).
type MultiReg int

const (
	// MultiRegOff (unset or false, FreeSWITCH's default): one registration per user; a REGISTER
	// replaces the user's other registrations on the profile and an unregister removes them all.
	MultiRegOff MultiReg = iota
	// MultiRegContact ("contact"): one registration per contact URI.
	MultiRegContact
	// MultiRegCallID ("true"): one registration per Call-ID; a REGISTER with a known Call-ID
	// and a new contact replaces that registration.
	MultiRegCallID
)

func (m MultiReg) String() string {
	switch m {
	case MultiRegContact:
		return "contact"
	case MultiRegCallID:
		return "true"
	}
	return "false"
}

func parseMultiReg(v string) MultiReg {
	if strings.EqualFold(strings.TrimSpace(v), "contact") {
		return MultiRegContact
	}
	if boolParam(v) {
		return MultiRegCallID
	}
	return MultiRegOff
}

// multiRegFor is the profile's mode for one user: sip-allow-multiple-registrations=false in the
// directory turns multiple registrations off for that user.
func (p *Profile) multiRegFor(du *xmlconf.User) MultiReg {
	m := p.cfg.MultipleRegistrations
	if m != MultiRegOff && du != nil {
		v := du.Param("sip-allow-multiple-registrations")
		if v == "" {
			v = du.Var("sip-allow-multiple-registrations")
		}
		if v != "" && !boolParam(v) {
			return MultiRegOff
		}
	}
	return m
}

// supersede removes the registrations of user@host on profile that reg replaces under mode m
// (before reg is stored): under MultiRegOff every other contact of the user, under
// MultiRegCallID another contact bound with the same Call-ID. Nothing under MultiRegContact:
// upsert replaces the same contact.
func (r *registry) supersede(m MultiReg, reg *Registration) []*Registration {
	switch m {
	case MultiRegOff:
		return r.removeFunc(reg.Profile, reg.User, reg.Host, func(old *Registration) bool { return old.ContactURI != reg.ContactURI })
	case MultiRegCallID:
		return r.removeFunc(reg.Profile, reg.User, reg.Host, func(old *Registration) bool {
			return old.CallID == reg.CallID && old.ContactURI != reg.ContactURI
		})
	}
	return nil
}

// unregister removes what an Expires: 0 for contactURI with callID removes under mode m:
// every registration of the user (off), the contact (contact) or the Call-ID's (true).
func (r *registry) unregister(m MultiReg, profile, user, host, contactURI, callID string) []*Registration {
	switch m {
	case MultiRegOff:
		return r.remove(profile, user, host, "")
	case MultiRegCallID:
		return r.removeFunc(profile, user, host, func(old *Registration) bool { return old.CallID == callID })
	}
	return r.remove(profile, user, host, contactURI)
}

// removeFunc deletes the registrations of user@host on profile for which match is true and
// returns them.
func (r *registry) removeFunc(profile, user, host string, match func(*Registration) bool) []*Registration {
	k := regKey(user, host)
	r.mu.Lock()
	var kept, gone []*Registration
	for _, reg := range r.m[k] {
		if reg.Profile == profile && match(reg) {
			gone = append(gone, reg)
		} else {
			kept = append(kept, reg)
		}
	}
	if len(kept) == 0 {
		delete(r.m, k)
	} else {
		r.m[k] = kept
	}
	r.mu.Unlock()
	for _, reg := range gone {
		r.db.Write(`DELETE FROM sip_registrations WHERE profile_name=? AND sip_user=? AND sip_host=? AND contact_uri=?`,
			reg.Profile, reg.User, reg.Host, reg.ContactURI)
	}
	return gone
}
