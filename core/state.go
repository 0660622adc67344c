package core

// State is a channel state, numbered as in FreeSWITCH's switch_channel_state_t.
type State uint8

const (
	StateNew State = iota
	StateInit
	StateRouting
	StateSoftExecute
	StateExecute
	StateExchangeMedia
	StatePark
	StateConsumeMedia
	StateHibernate
	StateReset
	StateHangup
	StateReporting
	StateDestroy
	StateNone
)

var stateNames = [...]string{
	"CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE", "CS_EXECUTE", "CS_EXCHANGE_MEDIA",
	"CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE", "CS_RESET", "CS_HANGUP", "CS_REPORTING",
	"CS_DESTROY", "CS_NONE",
}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "CS_NONE"
}

// CallState is a channel's call state (CHANNEL_CALLSTATE), numbered as in FreeSWITCH.
type CallState uint8

const (
	CallDown CallState = iota
	CallDialing
	CallRinging
	CallEarly
	CallActive
	CallHeld
	CallRingWait
	CallHangup
	CallUnheld
)

var callStateNames = [...]string{
	"DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP", "UNHELD",
}

func (c CallState) String() string {
	if int(c) < len(callStateNames) {
		return callStateNames[c]
	}
	return "DOWN"
}

// Direction is the channel's direction as FreeSWITCH names it from the switch's point of view.
type Direction uint8

const (
	Inbound Direction = iota
	Outbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "outbound"
	}
	return "inbound"
}
