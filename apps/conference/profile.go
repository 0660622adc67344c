// Package conference is mod_conference for audio: rooms named name@profile, profiles and caller
// controls from conference.conf.xml, a mixer where each member hears everyone but itself (energy
// gate, per-member volume), enter/exit/alone sounds and music on hold, the conference console
// API, and conference::maintenance events.
package conference

import (
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// Profile is one <profile> of conference.conf with FreeSWITCH's defaults applied.
type Profile struct {
	Name             string
	Params           map[string]string
	Rate             int
	Interval         int // ms
	EnergyLevel      int
	ComfortNoise     int // 0 = off; FreeSWITCH's level (true = 1400)
	CallerControls   string
	ModeratorControl string
	MemberFlags      string
	ConferenceFlags  string
	Pin              string
	ModeratorPin     string
	PinRetries       int
	MaxMembers       int
}

// Param returns a profile parameter ("" when unset).
func (p *Profile) Param(name string) string { return p.Params[name] }

// Control is one caller-control binding.
type Control struct {
	Action string
	Digits string
	Data   string
}

// Config is the compiled conference.conf.
type Config struct {
	Profiles map[string]*Profile
	Groups   map[string][]Control
}

// defaultControls is FreeSWITCH's built-in "default" caller-control group, used when
// conference.conf does not define one.
var defaultControls = []Control{
	{"mute", "0", ""}, {"deaf mute", "*", ""}, {"energy up", "9", ""}, {"energy equ", "8", ""},
	{"energy dn", "7", ""}, {"vol talk up", "3", ""}, {"vol talk zero", "2", ""}, {"vol talk dn", "1", ""},
	{"vol listen up", "6", ""}, {"vol listen zero", "5", ""}, {"vol listen dn", "4", ""}, {"hangup", "#", ""},
}

// LoadConfig reads conference.conf from a snapshot.
func LoadConfig(snap *xmlconf.Snapshot) *Config {
	c := &Config{Profiles: map[string]*Profile{}, Groups: map[string][]Control{}}
	var conf = snap.Configuration("conference.conf")
	if conf != nil {
		for _, cc := range conf.SelectElements("caller-controls") {
			for _, g := range cc.SelectElements("group") {
				var ctl []Control
				for _, x := range g.SelectElements("control") {
					ctl = append(ctl, Control{
						Action: x.SelectAttrValue("action", ""), Digits: x.SelectAttrValue("digits", ""),
						Data: x.SelectAttrValue("data", ""),
					})
				}
				c.Groups[g.SelectAttrValue("name", "")] = ctl
			}
		}
		for _, ps := range conf.SelectElements("profiles") {
			for _, pe := range ps.SelectElements("profile") {
				p := &Profile{Name: pe.SelectAttrValue("name", ""), Params: map[string]string{}}
				for _, x := range pe.SelectElements("param") {
					p.Params[x.SelectAttrValue("name", "")] = x.SelectAttrValue("value", "")
				}
				p.apply()
				c.Profiles[p.Name] = p
			}
		}
	}
	if _, ok := c.Groups["default"]; !ok {
		c.Groups["default"] = defaultControls
	}
	if _, ok := c.Profiles["default"]; !ok {
		p := &Profile{Name: "default", Params: map[string]string{}}
		p.apply()
		c.Profiles["default"] = p
	}
	return c
}

func (p *Profile) apply() {
	atoi := func(name string, def int) int {
		if n, err := strconv.Atoi(strings.TrimSpace(p.Params[name])); err == nil {
			return n
		}
		return def
	}
	p.Rate = atoi("rate", 8000)
	switch p.Rate {
	case 8000, 12000, 16000, 24000, 32000, 44100, 48000:
	default:
		p.Rate = 8000 // "auto" and anything else: FreeSWITCH picks from the first member; we mix at 8k
	}
	p.Interval = atoi("interval", 20)
	if p.Interval <= 0 || p.Interval > 120 || p.Interval%10 != 0 {
		p.Interval = 20
	}
	p.EnergyLevel = atoi("energy-level", 0)
	switch cn := strings.ToLower(p.Params["comfort-noise"]); cn {
	case "true", "yes", "on":
		p.ComfortNoise = 1400
	case "", "false", "no", "off":
	default:
		if n, err := strconv.Atoi(cn); err == nil && n > 1 && n < 10000 {
			p.ComfortNoise = n
		}
	}
	p.CallerControls = p.Params["caller-controls"]
	if p.CallerControls == "" {
		p.CallerControls = "default"
	}
	p.ModeratorControl = p.Params["moderator-controls"]
	p.MemberFlags = p.Params["member-flags"]
	p.ConferenceFlags = p.Params["conference-flags"]
	p.Pin = p.Params["pin"]
	p.ModeratorPin = p.Params["moderator-pin"]
	p.PinRetries = atoi("pin-retries", 3)
	p.MaxMembers = atoi("max-members", 0)
}
