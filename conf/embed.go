// Package conf is goswitch's default configuration tree, in FreeSWITCH's
// layout, compiled into the binary so the daemon runs without -conf.
package conf

import "embed"

// FS holds the tree; its root holds freeswitch.xml.
//
//go:embed freeswitch.xml vars.xml autoload_configs dialplan directory sip_profiles ivr_menus lang
var FS embed.FS
