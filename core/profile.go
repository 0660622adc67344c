package core

import (
	"strconv"
	"strings"
	"time"
)

// CallerProfile is FreeSWITCH's caller profile: who is calling whom, through which dialplan and
// context. A transfer clones it with a new destination.
type CallerProfile struct {
	Username         string
	Dialplan         string
	CallerIDName     string
	CallerIDNumber   string
	OrigCallerIDName string
	OrigCallerIDNum  string
	CalleeIDName     string
	CalleeIDNumber   string
	ANI              string
	ANIII            string
	NetworkAddr      string
	RDNIS            string
	DestNumber       string
	Source           string
	TransferSource   string
	Context          string
	ChanName         string
	UUID             string
	ProfileIndex     int
	CallerTON        int
	CallerNumplan    int
	DestNumberTON    int
	DestNumberPlan   int
	PrivacyHideName  bool
	PrivacyHideNum   bool
	Created          time.Time
}

// Clone returns a copy.
func (p *CallerProfile) Clone() *CallerProfile {
	c := *p
	return &c
}

func epochMicros(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// field returns a caller-profile field by FreeSWITCH name (switch_caller_get_field_by_name,
// case-insensitive). Times come from the session, so they are looked up there.
func (p *CallerProfile) field(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "dialplan":
		return p.Dialplan, true
	case "username":
		return p.Username, true
	case "caller_id_name":
		return p.CallerIDName, true
	case "caller_id_number":
		return p.CallerIDNumber, true
	case "orig_caller_id_name":
		return p.OrigCallerIDName, true
	case "orig_caller_id_number":
		return p.OrigCallerIDNum, true
	case "callee_id_name":
		return p.CalleeIDName, true
	case "callee_id_number":
		return p.CalleeIDNumber, true
	case "ani":
		return p.ANI, true
	case "aniii":
		return p.ANIII, true
	case "network_addr":
		return p.NetworkAddr, true
	case "rdnis":
		return p.RDNIS, true
	case "destination_number":
		return p.DestNumber, true
	case "uuid":
		return p.UUID, true
	case "source":
		return p.Source, true
	case "transfer_source":
		return p.TransferSource, true
	case "context":
		return p.Context, true
	case "chan_name":
		return p.ChanName, true
	case "profile_index":
		return strconv.Itoa(p.ProfileIndex), true
	case "caller_ton":
		return strconv.Itoa(p.CallerTON), true
	case "caller_numplan":
		return strconv.Itoa(p.CallerNumplan), true
	case "destination_number_ton":
		return strconv.Itoa(p.DestNumberTON), true
	case "destination_number_numplan":
		return strconv.Itoa(p.DestNumberPlan), true
	case "ani_ton", "ani_numplan", "rdnis_ton", "rdnis_numplan", "screen_bit":
		return "0", true
	case "privacy_hide_name":
		return strconv.FormatBool(p.PrivacyHideName), true
	case "privacy_hide_number":
		return strconv.FormatBool(p.PrivacyHideNum), true
	case "profile_created_time":
		return epochMicros(p.Created), true
	}
	return "", false
}
