package event

// FreeSWITCH event names (src/switch_event.c EVENT_NAMES[], same order).
const (
	Custom                 = "CUSTOM"
	Clone                  = "CLONE"
	ChannelCreate          = "CHANNEL_CREATE"
	ChannelDestroy         = "CHANNEL_DESTROY"
	ChannelState           = "CHANNEL_STATE"
	ChannelCallstate       = "CHANNEL_CALLSTATE"
	ChannelAnswer          = "CHANNEL_ANSWER"
	ChannelHangup          = "CHANNEL_HANGUP"
	ChannelHangupComplete  = "CHANNEL_HANGUP_COMPLETE"
	ChannelExecute         = "CHANNEL_EXECUTE"
	ChannelExecuteComplete = "CHANNEL_EXECUTE_COMPLETE"
	ChannelHold            = "CHANNEL_HOLD"
	ChannelUnhold          = "CHANNEL_UNHOLD"
	ChannelBridge          = "CHANNEL_BRIDGE"
	ChannelUnbridge        = "CHANNEL_UNBRIDGE"
	ChannelProgress        = "CHANNEL_PROGRESS"
	ChannelProgressMedia   = "CHANNEL_PROGRESS_MEDIA"
	ChannelOutgoing        = "CHANNEL_OUTGOING"
	ChannelPark            = "CHANNEL_PARK"
	ChannelUnpark          = "CHANNEL_UNPARK"
	ChannelApplication     = "CHANNEL_APPLICATION"
	ChannelOriginate       = "CHANNEL_ORIGINATE"
	ChannelUUID            = "CHANNEL_UUID"
	API                    = "API"
	Log                    = "LOG"
	InboundChan            = "INBOUND_CHAN"
	OutboundChan           = "OUTBOUND_CHAN"
	Startup                = "STARTUP"
	Shutdown               = "SHUTDOWN"
	Publish                = "PUBLISH"
	Unpublish              = "UNPUBLISH"
	Talk                   = "TALK"
	Notalk                 = "NOTALK"
	SessionCrash           = "SESSION_CRASH"
	ModuleLoad             = "MODULE_LOAD"
	ModuleUnload           = "MODULE_UNLOAD"
	DTMF                   = "DTMF"
	Message                = "MESSAGE"
	PresenceIn             = "PRESENCE_IN"
	NotifyIn               = "NOTIFY_IN"
	PresenceOut            = "PRESENCE_OUT"
	PresenceProbe          = "PRESENCE_PROBE"
	MessageWaiting         = "MESSAGE_WAITING"
	MessageQuery           = "MESSAGE_QUERY"
	Roster                 = "ROSTER"
	Codec                  = "CODEC"
	BackgroundJob          = "BACKGROUND_JOB"
	DetectedSpeech         = "DETECTED_SPEECH"
	DetectedTone           = "DETECTED_TONE"
	PrivateCommand         = "PRIVATE_COMMAND"
	Heartbeat              = "HEARTBEAT"
	Trap                   = "TRAP"
	AddSchedule            = "ADD_SCHEDULE"
	DelSchedule            = "DEL_SCHEDULE"
	ExeSchedule            = "EXE_SCHEDULE"
	ReSchedule             = "RE_SCHEDULE"
	ReloadXML              = "RELOADXML"
	Notify                 = "NOTIFY"
	PhoneFeature           = "PHONE_FEATURE"
	PhoneFeatureSubscribe  = "PHONE_FEATURE_SUBSCRIBE"
	SendMessage            = "SEND_MESSAGE"
	RecvMessage            = "RECV_MESSAGE"
	RequestParams          = "REQUEST_PARAMS"
	ChannelData            = "CHANNEL_DATA"
	General                = "GENERAL"
	Command                = "COMMAND"
	SessionHeartbeat       = "SESSION_HEARTBEAT"
	ClientDisconnected     = "CLIENT_DISCONNECTED"
	ServerDisconnected     = "SERVER_DISCONNECTED"
	SendInfo               = "SEND_INFO"
	RecvInfo               = "RECV_INFO"
	RecvRTCPMessage        = "RECV_RTCP_MESSAGE"
	SendRTCPMessage        = "SEND_RTCP_MESSAGE"
	CallSecure             = "CALL_SECURE"
	NAT                    = "NAT"
	RecordStart            = "RECORD_START"
	RecordStop             = "RECORD_STOP"
	PlaybackStart          = "PLAYBACK_START"
	PlaybackStop           = "PLAYBACK_STOP"
	CallUpdate             = "CALL_UPDATE"
	Failure                = "FAILURE"
	SocketData             = "SOCKET_DATA"
	MediaBugStart          = "MEDIA_BUG_START"
	MediaBugStop           = "MEDIA_BUG_STOP"
	ConferenceDataQuery    = "CONFERENCE_DATA_QUERY"
	ConferenceData         = "CONFERENCE_DATA"
	CallSetupReq           = "CALL_SETUP_REQ"
	CallSetupResult        = "CALL_SETUP_RESULT"
	CallDetail             = "CALL_DETAIL"
	DeviceState            = "DEVICE_STATE"
	Text                   = "TEXT"
	ShutdownRequested      = "SHUTDOWN_REQUESTED"
	All                    = "ALL"
)

// Names lists every event name in FreeSWITCH's order; ESL `event` commands are checked against it.
var Names = []string{
	Custom, Clone, ChannelCreate, ChannelDestroy, ChannelState, ChannelCallstate, ChannelAnswer,
	ChannelHangup, ChannelHangupComplete, ChannelExecute, ChannelExecuteComplete, ChannelHold,
	ChannelUnhold, ChannelBridge, ChannelUnbridge, ChannelProgress, ChannelProgressMedia,
	ChannelOutgoing, ChannelPark, ChannelUnpark, ChannelApplication, ChannelOriginate, ChannelUUID,
	API, Log, InboundChan, OutboundChan, Startup, Shutdown, Publish, Unpublish, Talk, Notalk,
	SessionCrash, ModuleLoad, ModuleUnload, DTMF, Message, PresenceIn, NotifyIn, PresenceOut,
	PresenceProbe, MessageWaiting, MessageQuery, Roster, Codec, BackgroundJob, DetectedSpeech,
	DetectedTone, PrivateCommand, Heartbeat, Trap, AddSchedule, DelSchedule, ExeSchedule, ReSchedule,
	ReloadXML, Notify, PhoneFeature, PhoneFeatureSubscribe, SendMessage, RecvMessage, RequestParams,
	ChannelData, General, Command, SessionHeartbeat, ClientDisconnected, ServerDisconnected, SendInfo,
	RecvInfo, RecvRTCPMessage, SendRTCPMessage, CallSecure, NAT, RecordStart, RecordStop,
	PlaybackStart, PlaybackStop, CallUpdate, Failure, SocketData, MediaBugStart, MediaBugStop,
	ConferenceDataQuery, ConferenceData, CallSetupReq, CallSetupResult, CallDetail, DeviceState, Text,
	ShutdownRequested, All,
}

// IsName reports whether name is a FreeSWITCH event name (case-sensitive, as FreeSWITCH compares).
func IsName(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}
