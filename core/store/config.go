package store

import (
	"strconv"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// CoreDSN is switch.conf's core-db-dsn ("" = the embedded SQLite default) with the pool size
// from max-db-handles (0 = default).
func CoreDSN(snap *xmlconf.Snapshot) (dsn string, maxConns int) {
	if snap == nil {
		return "", 0
	}
	cfg := snap.Configuration("switch.conf")
	dsn = param(cfg, "settings", "core-db-dsn")
	maxConns, _ = strconv.Atoi(param(cfg, "settings", "max-db-handles"))
	return dsn, maxConns
}

// ModuleDSN is a module's own database setting (voicemail.conf and fifo.conf "odbc-dsn" or
// "db-dsn", in settings or in any profile), falling back to core-db-dsn, as FreeSWITCH does.
func ModuleDSN(snap *xmlconf.Snapshot, conf string) string {
	if snap == nil {
		return ""
	}
	cfg := snap.Configuration(conf)
	for _, name := range []string{"odbc-dsn", "db-dsn"} {
		if v := param(cfg, "settings", name); v != "" {
			return v
		}
		if cfg != nil {
			for _, p := range cfg.FindElements(".//profile/param[@name='" + name + "']") {
				if v := p.SelectAttrValue("value", ""); v != "" {
					return v
				}
			}
		}
	}
	dsn, _ := CoreDSN(snap)
	return dsn
}

// SofiaDSN is the first sofia profile's odbc-dsn, else core-db-dsn: goswitch keeps one
// registration database per endpoint, so profiles that name different databases share the first.
func SofiaDSN(snap *xmlconf.Snapshot) string {
	if snap == nil {
		return ""
	}
	if cfg := snap.Configuration("sofia.conf"); cfg != nil {
		for _, p := range cfg.FindElements(".//profile/settings/param[@name='odbc-dsn']") {
			if v := p.SelectAttrValue("value", ""); v != "" {
				return v
			}
		}
	}
	dsn, _ := CoreDSN(snap)
	return dsn
}

func param(cfg *etree.Element, section, name string) string {
	if cfg == nil {
		return ""
	}
	for _, p := range cfg.FindElements(section + "/param[@name='" + name + "']") {
		if v := p.SelectAttrValue("value", ""); v != "" {
			return v
		}
	}
	return ""
}
