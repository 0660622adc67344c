package core

import (
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Vars is a channel's variable table. It keeps insertion order (events list variable_* headers in
// the order variables were first set, as FreeSWITCH does) and is safe for concurrent use: the
// session goroutine writes, the console and event socket read and sometimes write (uuid_setvar).
type Vars struct {
	mu    sync.RWMutex
	m     map[string]string
	order []string
}

// NewVars returns an empty table.
func NewVars() *Vars { return &Vars{m: make(map[string]string)} }

// channelVarsHint is about how many variables a SIP call collects (sip_*, timestamps, RTP
// statistics): a channel's table starts that big instead of growing through five rehashes.
const channelVarsHint = 160

func newChannelVars() *Vars {
	return &Vars{m: make(map[string]string, channelVarsHint), order: make([]string, 0, channelVarsHint)}
}

// Get returns the value of name and whether it is set.
func (v *Vars) Get(name string) (string, bool) {
	v.mu.RLock()
	val, ok := v.m[name]
	v.mu.RUnlock()
	return val, ok
}

// Value returns the value of name, or "".
func (v *Vars) Value(name string) string {
	val, _ := v.Get(name)
	return val
}

// Set sets name to value. Like FreeSWITCH, setting an empty value unsets the variable.
func (v *Vars) Set(name, value string) {
	if value == "" {
		v.Unset(name)
		return
	}
	v.mu.Lock()
	if _, ok := v.m[name]; !ok {
		v.order = append(v.order, name)
	}
	v.m[name] = value
	v.mu.Unlock()
}

// Unset removes name.
func (v *Vars) Unset(name string) {
	v.mu.Lock()
	if _, ok := v.m[name]; ok {
		delete(v.m, name)
		for i, n := range v.order {
			if n == name {
				v.order = append(v.order[:i], v.order[i+1:]...)
				break
			}
		}
	}
	v.mu.Unlock()
}

// Len returns how many variables are set.
func (v *Vars) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.m)
}

// Each calls fn for every variable in insertion order, on a copy taken under the lock.
func (v *Vars) Each(fn func(name, value string)) {
	for _, kv := range v.List() {
		fn(kv[0], kv[1])
	}
}

// List returns name/value pairs in insertion order.
func (v *Vars) List() [][2]string {
	v.mu.RLock()
	out := make([][2]string, 0, len(v.order))
	for _, n := range v.order {
		out = append(out, [2]string{n, v.m[n]})
	}
	v.mu.RUnlock()
	return out
}

// AppendHeaders appends every variable as a FreeSWITCH event header (variable_<name>) in
// insertion order, without building the header names again.
func (v *Vars) AppendHeaders(add func(name, value string)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, n := range v.order {
		add(varHeader(n), v.m[n])
	}
}

// EachPrefix calls fn, under the read lock, for every variable named prefix or prefix_<x>, in
// insertion order. fn must not use the table.
func (v *Vars) EachPrefix(prefix string, fn func(name, value string)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, n := range v.order {
		if strings.HasPrefix(n, prefix) && (len(n) == len(prefix) || n[len(prefix)] == '_') {
			fn(n, v.m[n])
		}
	}
}

// Map returns a copy of the table.
func (v *Vars) Map() map[string]string {
	v.mu.RLock()
	out := make(map[string]string, len(v.m))
	for k, val := range v.m {
		out[k] = val
	}
	v.mu.RUnlock()
	return out
}

// Names returns the variable names sorted, for stable output.
func (v *Vars) Names() []string {
	v.mu.RLock()
	out := make([]string, 0, len(v.m))
	for k := range v.m {
		out = append(out, k)
	}
	v.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Clone returns an independent copy.
func (v *Vars) Clone() *Vars {
	c := NewVars()
	for _, kv := range v.List() {
		c.Set(kv[0], kv[1])
	}
	return c
}

// splitList splits on sep, trimming blanks and dropping empty items.
func splitList(s string, sep byte) []string {
	var out []string
	for _, p := range strings.Split(s, string(sep)) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// True is FreeSWITCH's switch_true: yes, on, true, t, enabled, active, allow, a non-zero number.
func True(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "on", "true", "t", "enabled", "active", "allow":
		return true
	}
	s := strings.TrimSpace(v)
	if s == "" || (s[0] < '0' || s[0] > '9') && s[0] != '-' && s[0] != '+' {
		return false // not a number: spare Atoi's error value (True runs for many variables per call)
	}
	n, err := strconv.Atoi(s)
	return err == nil && n != 0
}
