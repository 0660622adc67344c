package loopback

import (
	"strings"

	"github.com/goswitch/goswitch/core"
)

// settings are loopback.conf's bowout parameters (mod_loopback's globals).
type settings struct {
	controlled bool       // bowout-controlled-hangup: the halves hang up with cause
	cause      core.Cause // bowout-hangup-cause, default NORMAL_UNSPECIFIED
	fireDirect bool       // fire-bowout-on-bridge: loopback::direct events
}

// loadSettings reads loopback.conf from the configuration the call started with; vanilla has
// none, so the defaults are what an admin sees.
func loadSettings(s *core.Session) settings {
	cfg := settings{cause: core.CauseNormalUnspecified}
	snap := s.Config()
	if snap == nil {
		return cfg
	}
	conf := snap.Configuration("loopback.conf")
	if conf == nil {
		return cfg
	}
	for _, el := range conf.FindElements("settings/param") {
		name := el.SelectAttrValue("name", "")
		value := strings.TrimSpace(el.SelectAttrValue("value", ""))
		if value == "" {
			continue
		}
		switch name {
		case "bowout-controlled-hangup":
			cfg.controlled = core.True(value)
		case "bowout-hangup-cause":
			cfg.cause = core.ParseCause(value)
		case "fire-bowout-on-bridge":
			cfg.fireDirect = core.True(value)
		}
	}
	return cfg
}
