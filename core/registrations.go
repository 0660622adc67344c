package core

// RegistrationRow is one row of FreeSWITCH's core registrations table (`show registrations`).
type RegistrationRow struct {
	User, Realm, Token, URL string
	Expires                 int64 // epoch seconds
	NetworkIP               string
	NetworkPort             int
	NetworkProto            string // udp, tcp, tls
	Metadata                string // the registering user agent
}

// RegistrationLister is implemented by endpoints with a registrar, so the console can list
// registrations without knowing the endpoint.
type RegistrationLister interface {
	RegistrationRows() []RegistrationRow
}

// Registrations returns the rows of every endpoint that keeps registrations.
func (h *Host) Registrations() []RegistrationRow {
	var out []RegistrationRow
	for _, ep := range h.endpointList() {
		if l, ok := ep.(RegistrationLister); ok {
			out = append(out, l.RegistrationRows()...)
		}
	}
	return out
}
