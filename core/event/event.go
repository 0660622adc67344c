// Package event holds FreeSWITCH-style events (ordered headers, FreeSWITCH names) and the Bus that
// carries them from sessions and modules to observers: the event socket, CDR writers and logs.
package event

import (
	"strings"
	"time"
)

// Header is one event header. FreeSWITCH keeps headers in the order they were added and clients
// (ESL libraries, fs_cli) show them that way, so events keep a slice, not a map.
type Header struct {
	Name  string
	Value string
}

// Headers is an ordered header list. Lookups are case-insensitive, as in FreeSWITCH.
type Headers []Header

// Get returns the first header named name.
func (h Headers) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup returns the first header named name and whether it exists.
func (h Headers) Lookup(name string) (string, bool) {
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			return x.Value, true
		}
	}
	return "", false
}

// Event is one FreeSWITCH event.
type Event struct {
	Name     string // CHANNEL_CREATE, DTMF, CUSTOM, ...
	Subclass string // for CUSTOM events, e.g. sofia::register
	Seq      uint64
	Time     time.Time
	Headers  Headers
	Body     string
}

// Add appends a header, keeping any earlier one of the same name (FreeSWITCH's "add" stack order).
func (e *Event) Add(name, value string) {
	e.Headers = append(e.Headers, Header{name, value})
}

// Set replaces the first header named name, or appends it.
func (e *Event) Set(name, value string) {
	for i := range e.Headers {
		if strings.EqualFold(e.Headers[i].Name, name) {
			e.Headers[i].Value = value
			return
		}
	}
	e.Add(name, value)
}

// Get returns the value of the first header named name, or "".
func (e *Event) Get(name string) string { return e.Headers.Get(name) }

// Del removes every header named name.
func (e *Event) Del(name string) {
	out := e.Headers[:0]
	for _, x := range e.Headers {
		if !strings.EqualFold(x.Name, name) {
			out = append(out, x)
		}
	}
	e.Headers = out
}

// Clone returns a deep copy, so a subscriber may modify what it received.
func (e *Event) Clone() *Event {
	c := *e
	c.Headers = append(Headers(nil), e.Headers...)
	return &c
}

// UniqueID returns the channel UUID an event is about, or "".
func (e *Event) UniqueID() string { return e.Get("Unique-ID") }
