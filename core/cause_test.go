package core

import "testing"

func TestCauseToSIP(t *testing.T) {
	cases := []struct {
		c    Cause
		want int
	}{
		{CauseNoRouteDestination, 404}, {CauseUnallocatedNumber, 404}, {CauseUserBusy, 486},
		{CauseNoUserResponse, 408}, {CauseNoAnswer, 480}, {CauseNormalClearing, 480},
		{CauseCallRejected, 603}, {CauseDestinationOutOfOrder, 502}, {CauseInvalidGateway, 484},
		{CauseGatewayDown, 503}, {CauseIncomingCallBarred, 403}, {CauseIncompatibleDestination, 488},
		{CauseRecoveryOnTimerExpire, 504}, {CauseOriginatorCancel, 487},
		{CauseExchangeRoutingError, 483}, {CauseBusyEverywhere, 600}, {CauseUnwanted, 607},
		{CauseNoIdentity, 428}, {CauseMediaTimeout, 480},
	}
	for _, tc := range cases {
		if got := tc.c.SIPStatus(); got != tc.want {
			t.Errorf("%s -> %d, want %d", tc.c, got, tc.want)
		}
	}
}

func TestSIPToCause(t *testing.T) {
	cases := map[int]Cause{
		200: CauseNormalClearing, 403: CauseCallRejected, 404: CauseUnallocatedNumber,
		408: CauseRecoveryOnTimerExpire, 480: CauseNoUserResponse, 486: CauseUserBusy,
		487: CauseOriginatorCancel, 488: CauseIncompatibleDestination, 503: CauseNormalTemporaryFailure,
		502: CauseNetworkOutOfOrder, 484: CauseInvalidNumberFormat, 405: CauseServiceUnavailable,
		420: CauseInterworking, 483: CauseExchangeRoutingError, 607: CauseUnwanted, 699: CauseNormalUnspecified,
	}
	for code, want := range cases {
		if got := CauseFromSIP(code); got != want {
			t.Errorf("%d -> %s, want %s", code, got, want)
		}
	}
}

func TestParseCause(t *testing.T) {
	cases := map[string]Cause{
		"USER_BUSY": CauseUserBusy, "user_busy": CauseUserBusy, "17": CauseUserBusy,
		"": CauseNormalClearing, "FOO": CauseNormalClearing, "487": CauseOriginatorCancel,
		"NO_ROUTE_DESTINATION": CauseNoRouteDestination,
	}
	for in, want := range cases {
		if got := ParseCause(in); got != want {
			t.Errorf("ParseCause(%q) = %s, want %s", in, got, want)
		}
	}
	for c := range causeNames {
		if ParseCause(c.String()) != c {
			t.Errorf("round trip of %s failed", c)
		}
	}
}

func TestStateNames(t *testing.T) {
	if StateExchangeMedia.String() != "CS_EXCHANGE_MEDIA" || int(StateDestroy) != 12 {
		t.Fatal("state table out of FreeSWITCH order")
	}
	if CallUnheld.String() != "UNHELD" || int(CallHangup) != 7 {
		t.Fatal("call state table out of FreeSWITCH order")
	}
}
