package main

import (
	"io"
	"log/slog"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// logStartFindings logs, once each at WARNING with file:line, what `goswitch check` reports for
// the configuration the daemon loaded: unsupported modules, sections, applications and bridge
// endpoints, and the loader's and compilers' warnings. A FreeSWITCH tree that goswitch only
// partly understands so says so at start instead of failing calls later. It returns the number
// of findings.
func logStartFindings(log *slog.Logger, snap *xmlconf.Snapshot) int {
	if snap == nil {
		return 0
	}
	c := &checkReport{out: io.Discard, seen: map[string]bool{}}
	c.onDiag = func(d xmlconf.Diag) {
		msg := d.Msg
		if p := d.Pos.String(); p != "" {
			msg = p + ": " + msg
		}
		if d.Warning {
			log.Warn(msg)
		} else {
			log.Error(msg)
		}
	}
	c.add(snap.Warnings()...)
	c.compile(snap)
	c.sections(snap)
	c.modules(snap)
	c.applications(snap)
	if n := c.errors + c.warnings; n > 0 {
		log.Warn("configuration check: goswitch does not support everything this configuration uses; `goswitch check` lists the same findings", "findings", n)
		return n
	}
	return 0
}
