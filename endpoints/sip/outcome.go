package sip

import (
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// setOutcome records how this leg's call ended on its own session (core.Session.SetOutcome)
// and writes the FreeSWITCH variables users read for it. It is the one writer of
// sip_term_status, sip_hangup_disposition, sip_hangup_phrase and proto_specific_hangup_cause:
// core and the bridge app read the typed Outcome instead.
//
// A non-zero o.Cause means the INVITE itself failed (sofia's "proto_specific_hangup_cause" is
// set only then); a final response we send, a BYE or a 2xx carry no cause.
func setOutcome(s *core.Session, o core.Outcome) {
	s.SetOutcome(o)
	if st, ok := strings.CutPrefix(o.Proto, "sip:"); ok {
		s.SetVar("sip_term_status", st)
		if o.Cause != 0 {
			s.SetVar("proto_specific_hangup_cause", o.Proto)
		}
	}
	if o.Phrase != "" {
		s.SetVar("sip_hangup_phrase", o.Phrase)
	}
	if o.Disposition != "" {
		s.SetVar("sip_hangup_disposition", o.Disposition)
	}
}

// sipProto is a SIP status as a protocol-specific cause: "sip:486".
func sipProto(code int) string { return "sip:" + strconv.Itoa(code) }

func statusText(code int) string {
	switch code {
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 480:
		return "Temporarily Unavailable"
	case 484:
		return "Address Incomplete"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 603:
		return "Decline"
	}
	return "Unknown"
}
