package core

import (
	"sort"
	"strings"

	"github.com/goswitch/goswitch/core/media"
)

// providedModules are FreeSWITCH modules whose work goswitch does without a registry entry of
// that name: the console and file loggers, the WAV reader, tone_stream:// and local_stream://,
// the English say module, the hash/expr/db APIs, CDR CSV, the event socket, the XML dialplan.
// A modules.conf <load> of one of them is satisfied; `show modules` lists it when loaded.
var providedModules = []string{
	"mod_cdr_csv", "mod_commands", "mod_conference", "mod_console", "mod_db", "mod_dialplan_xml",
	"mod_dptools", "mod_event_socket", "mod_expr", "mod_hash", "mod_local_stream", "mod_logfile",
	"mod_loopback", "mod_say_en", "mod_sndfile", "mod_sofia", "mod_tone_stream", "mod_voicemail",
}

// ProvidedModules returns the FreeSWITCH module names goswitch has built in beyond those its
// registries name (see ModuleBuiltIn), sorted.
func ProvidedModules() []string {
	out := append([]string(nil), providedModules...)
	sort.Strings(out)
	return out
}

// ModuleBuiltIn reports whether goswitch provides the FreeSWITCH module name: a registered
// module, the module of a registered application, API, endpoint, dialplan or codec (mod_opus is
// there only when libopus loaded), or one of ProvidedModules.
func ModuleBuiltIn(name string) bool {
	for _, m := range providedModules {
		if m == name {
			return true
		}
	}
	if _, ok := modules.get(name); ok {
		return true
	}
	for _, a := range Apps() {
		if a.Module == name {
			return true
		}
	}
	for _, a := range APIs() {
		if a.Module == name {
			return true
		}
	}
	for _, e := range Endpoints() {
		if e.Module == name {
			return true
		}
	}
	for _, c := range media.Codecs() { // a codec module: mod_opus when the Opus codec loaded
		if strings.EqualFold(name, "mod_"+c.Name) {
			return true
		}
	}
	return name == "mod_dialplan_xml" && len(Dialplans()) > 0
}
