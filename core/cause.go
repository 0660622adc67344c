package core

import (
	"strconv"
	"strings"
)

// Cause is a hangup cause: a Q.850 code below 128, FreeSWITCH's own codes above.
type Cause uint16

const (
	CauseNone                        Cause = 0
	CauseUnallocatedNumber           Cause = 1
	CauseNoRouteTransitNet           Cause = 2
	CauseNoRouteDestination          Cause = 3
	CauseChannelUnacceptable         Cause = 6
	CauseCallAwardedDelivered        Cause = 7
	CauseNormalClearing              Cause = 16
	CauseUserBusy                    Cause = 17
	CauseNoUserResponse              Cause = 18
	CauseNoAnswer                    Cause = 19
	CauseSubscriberAbsent            Cause = 20
	CauseCallRejected                Cause = 21
	CauseNumberChanged               Cause = 22
	CauseRedirectionToNewDestination Cause = 23
	CauseExchangeRoutingError        Cause = 25
	CauseDestinationOutOfOrder       Cause = 27
	CauseInvalidNumberFormat         Cause = 28
	CauseFacilityRejected            Cause = 29
	CauseResponseToStatusEnquiry     Cause = 30
	CauseNormalUnspecified           Cause = 31
	CauseNormalCircuitCongestion     Cause = 34
	CauseNetworkOutOfOrder           Cause = 38
	CauseNormalTemporaryFailure      Cause = 41
	CauseSwitchCongestion            Cause = 42
	CauseAccessInfoDiscarded         Cause = 43
	CauseRequestedChanUnavail        Cause = 44
	CausePreEmpted                   Cause = 45
	CauseFacilityNotSubscribed       Cause = 50
	CauseOutgoingCallBarred          Cause = 52
	CauseIncomingCallBarred          Cause = 54
	CauseBearerCapabilityNotAuth     Cause = 57
	CauseBearerCapabilityNotAvail    Cause = 58
	CauseServiceUnavailable          Cause = 63
	CauseBearerCapabilityNotImpl     Cause = 65
	CauseChanNotImplemented          Cause = 66
	CauseFacilityNotImplemented      Cause = 69
	CauseServiceNotImplemented       Cause = 79
	CauseInvalidCallReference        Cause = 81
	CauseIncompatibleDestination     Cause = 88
	CauseInvalidMsgUnspecified       Cause = 95
	CauseMandatoryIEMissing          Cause = 96
	CauseMessageTypeNonexist         Cause = 97
	CauseWrongMessage                Cause = 98
	CauseIENonexist                  Cause = 99
	CauseInvalidIEContents           Cause = 100
	CauseWrongCallState              Cause = 101
	CauseRecoveryOnTimerExpire       Cause = 102
	CauseMandatoryIELengthError      Cause = 103
	CauseProtocolError               Cause = 111
	CauseInterworking                Cause = 127
	CauseSuccess                     Cause = 142
	CauseOriginatorCancel            Cause = 487
	CauseCrash                       Cause = 700
	CauseSystemShutdown              Cause = 701
	CauseLoseRace                    Cause = 702
	CauseManagerRequest              Cause = 703
	CauseBlindTransfer               Cause = 800
	CauseAttendedTransfer            Cause = 801
	CauseAllottedTimeout             Cause = 802
	CauseUserChallenge               Cause = 803
	CauseMediaTimeout                Cause = 804
	CausePickedOff                   Cause = 805
	CauseUserNotRegistered           Cause = 806
	CauseProgressTimeout             Cause = 807
	CauseInvalidGateway              Cause = 808
	CauseGatewayDown                 Cause = 809
	CauseInvalidURL                  Cause = 810
	CauseInvalidProfile              Cause = 811
	CauseNoPickup                    Cause = 812
	CauseSRTPReadError               Cause = 813
	CauseBowout                      Cause = 814
	CauseBusyEverywhere              Cause = 815
	CauseDecline                     Cause = 816
	CauseDoesNotExistAnywhere        Cause = 817
	CauseNotAcceptable               Cause = 818
	CauseUnwanted                    Cause = 819
	CauseNoIdentity                  Cause = 820
	CauseBadIdentityInfo             Cause = 821
	CauseUnsupportedCertificate      Cause = 822
	CauseInvalidIdentity             Cause = 823
	CauseStaleDate                   Cause = 824
	CauseRejectAll                   Cause = 825
)

var causeNames = map[Cause]string{
	0: "NONE", 1: "UNALLOCATED_NUMBER", 2: "NO_ROUTE_TRANSIT_NET", 3: "NO_ROUTE_DESTINATION",
	6: "CHANNEL_UNACCEPTABLE", 7: "CALL_AWARDED_DELIVERED", 16: "NORMAL_CLEARING", 17: "USER_BUSY",
	18: "NO_USER_RESPONSE", 19: "NO_ANSWER", 20: "SUBSCRIBER_ABSENT", 21: "CALL_REJECTED",
	22: "NUMBER_CHANGED", 23: "REDIRECTION_TO_NEW_DESTINATION", 25: "EXCHANGE_ROUTING_ERROR",
	27: "DESTINATION_OUT_OF_ORDER", 28: "INVALID_NUMBER_FORMAT", 29: "FACILITY_REJECTED",
	30: "RESPONSE_TO_STATUS_ENQUIRY", 31: "NORMAL_UNSPECIFIED", 34: "NORMAL_CIRCUIT_CONGESTION",
	38: "NETWORK_OUT_OF_ORDER", 41: "NORMAL_TEMPORARY_FAILURE", 42: "SWITCH_CONGESTION",
	43: "ACCESS_INFO_DISCARDED", 44: "REQUESTED_CHAN_UNAVAIL", 45: "PRE_EMPTED",
	50: "FACILITY_NOT_SUBSCRIBED", 52: "OUTGOING_CALL_BARRED", 54: "INCOMING_CALL_BARRED",
	57: "BEARERCAPABILITY_NOTAUTH", 58: "BEARERCAPABILITY_NOTAVAIL", 63: "SERVICE_UNAVAILABLE",
	65: "BEARERCAPABILITY_NOTIMPL", 66: "CHAN_NOT_IMPLEMENTED", 69: "FACILITY_NOT_IMPLEMENTED",
	79: "SERVICE_NOT_IMPLEMENTED", 81: "INVALID_CALL_REFERENCE", 88: "INCOMPATIBLE_DESTINATION",
	95: "INVALID_MSG_UNSPECIFIED", 96: "MANDATORY_IE_MISSING", 97: "MESSAGE_TYPE_NONEXIST",
	98: "WRONG_MESSAGE", 99: "IE_NONEXIST", 100: "INVALID_IE_CONTENTS", 101: "WRONG_CALL_STATE",
	102: "RECOVERY_ON_TIMER_EXPIRE", 103: "MANDATORY_IE_LENGTH_ERROR", 111: "PROTOCOL_ERROR",
	127: "INTERWORKING", 142: "SUCCESS", 487: "ORIGINATOR_CANCEL", 700: "CRASH",
	701: "SYSTEM_SHUTDOWN", 702: "LOSE_RACE", 703: "MANAGER_REQUEST", 800: "BLIND_TRANSFER",
	801: "ATTENDED_TRANSFER", 802: "ALLOTTED_TIMEOUT", 803: "USER_CHALLENGE", 804: "MEDIA_TIMEOUT",
	805: "PICKED_OFF", 806: "USER_NOT_REGISTERED", 807: "PROGRESS_TIMEOUT", 808: "INVALID_GATEWAY",
	809: "GATEWAY_DOWN", 810: "INVALID_URL", 811: "INVALID_PROFILE", 812: "NO_PICKUP",
	813: "SRTP_READ_ERROR", 814: "BOWOUT", 815: "BUSY_EVERYWHERE", 816: "DECLINE",
	817: "DOES_NOT_EXIST_ANYWHERE", 818: "NOT_ACCEPTABLE", 819: "UNWANTED", 820: "NO_IDENTITY",
	821: "BAD_IDENTITY_INFO", 822: "UNSUPPORTED_CERTIFICATE", 823: "INVALID_IDENTITY",
	824: "STALE_DATE", 825: "REJECT_ALL",
}

var causeByName = func() map[string]Cause {
	m := make(map[string]Cause, len(causeNames))
	for c, n := range causeNames {
		m[n] = c
	}
	return m
}()

// String returns FreeSWITCH's name for the cause ("NORMAL_CLEARING"); unknown codes print as
// FreeSWITCH prints them: "UNKNOWN".
func (c Cause) String() string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return "UNKNOWN"
}

// Known reports whether c is in FreeSWITCH's cause table.
func (c Cause) Known() bool { _, ok := causeNames[c]; return ok }

// ParseCause is FreeSWITCH's str2cause: a name (any case) or a number. Like FreeSWITCH, anything
// unknown or empty yields NORMAL_CLEARING, so `hangup FOO` clears normally.
func ParseCause(s string) Cause {
	s = strings.TrimSpace(s)
	if s == "" {
		return CauseNormalClearing
	}
	if s[0] >= '0' && s[0] <= '9' {
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, _ := strconv.Atoi(s[:end])
		return Cause(n)
	}
	if c, ok := causeByName[strings.ToUpper(s)]; ok {
		return c
	}
	return CauseNormalClearing
}

// LookupCause resolves a name or number and reports whether it named a known cause.
func LookupCause(s string) (Cause, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, false
		}
		c := Cause(n)
		return c, c.Known()
	}
	c, ok := causeByName[strings.ToUpper(s)]
	return c, ok
}

// SIPStatus maps a cause to the SIP response FreeSWITCH sends when refusing an unanswered
// inbound INVITE (mod_sofia hangup_cause_to_sip); 480 for anything unlisted.
func (c Cause) SIPStatus() int {
	switch c {
	case CauseUnallocatedNumber, CauseNoRouteTransitNet, CauseNoRouteDestination:
		return 404
	case CauseUserBusy:
		return 486
	case CauseNoUserResponse:
		return 408
	case CauseNoAnswer, CauseSubscriberAbsent, CauseNormalUnspecified:
		return 480
	case CauseCallRejected, CauseDecline, CauseRejectAll:
		return 603
	case CauseNumberChanged, CauseRedirectionToNewDestination:
		return 410
	case CauseDestinationOutOfOrder, CauseInvalidProfile:
		return 502
	case CauseInvalidNumberFormat, CauseInvalidURL, CauseInvalidGateway:
		return 484
	case CauseFacilityRejected, CauseFacilityNotImplemented, CauseServiceNotImplemented:
		return 501
	case CauseRequestedChanUnavail, CauseNormalCircuitCongestion, CauseNetworkOutOfOrder,
		CauseNormalTemporaryFailure, CauseSwitchCongestion, CauseGatewayDown,
		CauseBearerCapabilityNotAvail:
		return 503
	case CauseOutgoingCallBarred, CauseIncomingCallBarred, CauseBearerCapabilityNotAuth,
		CauseStaleDate:
		return 403
	case CauseBearerCapabilityNotImpl, CauseIncompatibleDestination:
		return 488
	case CauseRecoveryOnTimerExpire:
		return 504
	case CauseOriginatorCancel:
		return 487
	case CauseExchangeRoutingError:
		return 483
	case CauseBusyEverywhere:
		return 600
	case CauseDoesNotExistAnywhere:
		return 604
	case CauseNotAcceptable:
		return 606
	case CauseUnwanted:
		return 607
	case CauseNoIdentity:
		return 428
	case CauseBadIdentityInfo:
		return 429
	case CauseUnsupportedCertificate:
		return 437
	case CauseInvalidIdentity:
		return 438
	}
	return 480
}

// CauseFromSIP maps a SIP final status to a cause (sofia_glue_sip_cause_to_freeswitch).
func CauseFromSIP(status int) Cause {
	switch status {
	case 200:
		return CauseNormalClearing
	case 401, 402, 403, 407, 603, 608:
		return CauseCallRejected
	case 607:
		return CauseUnwanted
	case 404:
		return CauseUnallocatedNumber
	case 485, 604:
		return CauseNoRouteDestination
	case 408, 504:
		return CauseRecoveryOnTimerExpire
	case 410:
		return CauseNumberChanged
	case 413, 414, 416, 420, 421, 423, 505, 513:
		return CauseInterworking
	case 480:
		return CauseNoUserResponse
	case 400, 481, 500, 503:
		return CauseNormalTemporaryFailure
	case 486, 600:
		return CauseUserBusy
	case 484:
		return CauseInvalidNumberFormat
	case 488, 606:
		return CauseIncompatibleDestination
	case 502:
		return CauseNetworkOutOfOrder
	case 405:
		return CauseServiceUnavailable
	case 406, 415, 501:
		return CauseServiceNotImplemented
	case 482, 483:
		return CauseExchangeRoutingError
	case 487:
		return CauseOriginatorCancel
	case 428:
		return CauseNoIdentity
	case 429:
		return CauseBadIdentityInfo
	case 437:
		return CauseUnsupportedCertificate
	case 438:
		return CauseInvalidIdentity
	}
	return CauseNormalUnspecified
}

// CallError is a call failure that classifies itself: the cause, the SIP status that produced or
// should carry it (0 when none), the leg's protocol-specific cause as its endpoint reported it
// (Outcome.Proto, "sip:486"), and a short reason for logs.
type CallError struct {
	Cause  Cause
	SIP    int
	Proto  string
	Reason string
	Err    error
}

// ProtoCause is the protocol-specific cause: Proto, else "sip:<SIP>", else "".
func (e *CallError) ProtoCause() string {
	if e.Proto != "" {
		return e.Proto
	}
	if e.SIP != 0 {
		return "sip:" + strconv.Itoa(e.SIP)
	}
	return ""
}

func (e *CallError) Error() string {
	s := e.Cause.String()
	if p := e.ProtoCause(); p != "" {
		s += " (" + p + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *CallError) Unwrap() error { return e.Err }

// Fail returns a CallError with the given cause.
func Fail(c Cause, reason string) *CallError { return &CallError{Cause: c, Reason: reason} }

// q850 returns the Q.850 code carried in Reason headers: FreeSWITCH's own causes map to
// their nearest Q.850 value.
func (c Cause) q850() Cause {
	if c < 128 {
		return c
	}
	switch c {
	case CauseOriginatorCancel, CauseLoseRace, CausePickedOff:
		return CauseNormalClearing
	case CauseMediaTimeout:
		return CauseRecoveryOnTimerExpire
	case CauseUserNotRegistered:
		return CauseSubscriberAbsent
	}
	return CauseNormalUnspecified
}

// Q850 returns the cause's Q.850 code.
func (c Cause) Q850() int { return int(c.q850()) }
