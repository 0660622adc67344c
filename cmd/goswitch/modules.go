package main

// The standard module set: each package registers its apps, endpoints, dialplans, API commands
// and modules from init(). This list is the one place that says what goswitch is built with.
import (
	_ "github.com/goswitch/goswitch/apps/bridge"
	_ "github.com/goswitch/goswitch/apps/dptools"
	_ "github.com/goswitch/goswitch/dialplan"
	_ "github.com/goswitch/goswitch/endpoints/errorep"
	_ "github.com/goswitch/goswitch/endpoints/loopback"
	_ "github.com/goswitch/goswitch/endpoints/user"
)
