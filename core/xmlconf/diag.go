// Package xmlconf loads a FreeSWITCH configuration tree: it runs FreeSWITCH's
// line-based preprocessor (src/switch_xml.c preprocess()), parses the result
// with etree, remembers where every element came from and hands back an
// immutable Snapshot. Reloading is calling Load again and swapping the
// result atomically; a failed Load leaves the caller's old Snapshot alone.
package xmlconf

import (
	"strconv"
	"strings"
)

// Pos is a place in an original (not preprocessed) config file.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", "file" when the line is unknown, or "" when
// nothing is known.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line <= 0:
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// IsZero reports whether nothing is known about the position.
func (p Pos) IsZero() bool { return p.File == "" && p.Line == 0 }

// Diag is one problem found while loading, tied to a file and line.
type Diag struct {
	Pos     Pos
	Msg     string
	Warning bool
}

// String returns "file:line: message", with "warning: " in front of the
// message for warnings so both kinds can be told apart in one listing.
func (d Diag) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// Error implements error.
func (d Diag) Error() string { return d.String() }

// Error is what Load returns when the tree cannot be used. Diags holds every
// error and warning found, in the order they were found.
type Error struct {
	Diags []Diag
}

// Error joins the errors, one per line (all diagnostics when none is an
// error); Diags keeps the warnings too.
func (e *Error) Error() string {
	ds := e.Errors()
	if len(ds) == 0 {
		ds = e.Diags
	}
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns only the diagnostics that are errors.
func (e *Error) Errors() []Diag {
	var out []Diag
	for _, d := range e.Diags {
		if !d.Warning {
			out = append(out, d)
		}
	}
	return out
}
