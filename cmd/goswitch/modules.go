package main

// The standard module set: each package registers its apps, endpoints, dialplans, API commands,
// codecs and modules from init(). This list is the one place that says what goswitch is built with.
import (
	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/conference"
	_ "github.com/goswitch/goswitch/apps/db"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/apps/eavesdrop"
	_ "github.com/goswitch/goswitch/apps/fifo"
	_ "github.com/goswitch/goswitch/apps/ivr"
	_ "github.com/goswitch/goswitch/apps/limit"
	_ "github.com/goswitch/goswitch/apps/playback"
	_ "github.com/goswitch/goswitch/apps/valet"
	_ "github.com/goswitch/goswitch/apps/voicemail"
	_ "github.com/goswitch/goswitch/codecs/g711"
	_ "github.com/goswitch/goswitch/codecs/g722"
	_ "github.com/goswitch/goswitch/codecs/l16"
	_ "github.com/goswitch/goswitch/codecs/opus"
	_ "github.com/goswitch/goswitch/codecs/telephoneevent"
	_ "github.com/goswitch/goswitch/core/api"
	_ "github.com/goswitch/goswitch/core/cdr"
	_ "github.com/goswitch/goswitch/core/esl"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	_ "github.com/goswitch/goswitch/endpoints/sip"
	_ "github.com/goswitch/goswitch/endpoints/user"
)
